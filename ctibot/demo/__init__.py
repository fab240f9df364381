"""The embedded demo PBX: an Asterisk look-alike speaking AMI over TCP, simulating an office."""

from ctibot.demo.office import Office, Phone, Queue, QueueMember, Trunk, User
from ctibot.demo.server import DemoPbx

__all__ = ["DemoPbx", "Office", "Phone", "Queue", "QueueMember", "Trunk", "User"]
