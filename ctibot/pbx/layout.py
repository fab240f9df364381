"""What ctibot knows of the PBX before it connects: extensions, devices, trunks, lots."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class TrunkSpec:
    """A trunk by name, the channel-name globs of its calls, and its channel limit."""

    name: str
    channels: tuple[str, ...]  # fnmatch globs, e.g. ("PJSIP/voip-a-*",) or ("Local/*@pstn-sim-*",)
    max_channels: int = 0  # 0 = unknown / unlimited


@dataclass(frozen=True, slots=True)
class PbxLayout:
    """The configured shape of the PBX, shared by the state model and the AMI client.

    ``device_template`` names the device that rings an extension's phone:
    ``PJSIP/{extension}`` in the field, ``Local/{extension}@phones`` in the lab
    the captures come from. Extensions are derived from channel names through it
    and from the FreePBX conventions (``Local/203@from-queue/n``,
    ``hint:203@ext-local``, ``Custom:203``).
    """

    extensions: tuple[str, ...] = ()
    device_template: str = "PJSIP/{extension}"
    trunks: tuple[TrunkSpec, ...] = ()
    hint_context: str = "ext-local"
    queue_context: str = "from-queue"
    internal_context: str = "from-internal"
    voicemail_context: str = "default"
    parking_lot: str = "default"
    parking_exten: str = "700"
    mobiles: dict[str, str] = field(default_factory=dict)  # extension -> user's mobile number
    #: A user's other phones (softphone, mobile app, a second desk phone) that FreePBX
    #: names apart from the main one, e.g. PJSIP/91201 for extension 201: device -> extension.
    devices: dict[str, str] = field(default_factory=dict)
    #: Which extensions the PBX lists (hints in ``hint_context``, phones named by
    #: ``device_template``) ctibot takes besides the configured ones: digit globs
    #: (``2??``, ``3*``) or ranges (``200-299``). ``("*",)`` takes all, ``()`` none.
    discover: tuple[str, ...] = ("*",)
    #: Names of extensions no user owns (a meeting room, a fax): extension -> name.
    names: dict[str, str] = field(default_factory=dict)
    #: Only configured and discovered extensions: never "any number" while none is known
    #: (a replay's inferred layout, where an outside number must not pass for a phone).
    strict: bool = False

    def device_of(self, extension: str) -> str:
        """The device (channel prefix) of an extension's phone."""
        return self.device_template.format(extension=extension)


#: The layout of the lab PBX that recorded tests/fixtures/ami/*.txt.
LAB_LAYOUT = PbxLayout(
    extensions=("201", "202", "203", "204", "205", "206"),
    device_template="Local/{extension}@phones",
    trunks=(TrunkSpec("pstn-sim", ("Local/*@pstn-sim-*", "Local/*@from-pstn-*"), 4),),
)
