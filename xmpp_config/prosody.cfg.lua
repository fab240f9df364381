-- Prosody 0.12 for ctibot: a production example to copy and adapt.
--
-- Users have accounts on example.com; ctibot is the external component
-- cti.example.com (XEP-0114) and connects from the same machine on port 5347.
-- Replace example.com, the certificate paths and the component secret; the
-- secret must be the `secret` of ctibot's [xmpp] section (or $CTIBOT_XMPP_SECRET).
--
-- Debian: copy this file to /etc/prosody/prosody.cfg.lua (or merge the parts
-- marked "ctibot"), check with `prosodyctl check`, then `systemctl restart prosody`.
-- See README.md in this directory.

---------- Server-wide settings ----------

admins = { "admin@example.com" }

-- Debian runs Prosody as the prosody user with these paths.
pidfile = "/run/prosody/prosody.pid"
data_path = "/var/lib/prosody"

modules_enabled = {
	-- The essentials
	"roster"; -- the users' contact lists
	"saslauth"; -- authentication
	"tls"; -- STARTTLS on client connections
	"dialback"; -- server-to-server authentication
	"disco"; -- service discovery: clients find ctibot's ad-hoc commands through it
	-- Modern clients (Conversations, Dino, Gajim) expect these
	"carbons"; "pep"; "private"; "blocklist"; "vcard4"; "vcard_legacy";
	"smacks"; "csi_simple"; "mam"; "bookmarks";
	-- Nice to have
	"version"; "uptime"; "time"; "ping"; "register";
	-- Admin interfaces
	"admin_adhoc"; "admin_shell";
	-- ctibot: puts the component's virtual JIDs (one per user, one per extension)
	-- into every team member's roster with subscription "both", so presence of
	-- phones and colleagues shows up without extra plugins. ctibot writes the file.
	"groups";
}

-- Accounts are created by the admin (`prosodyctl adduser alice@example.com`).
allow_registration = false

-- Clients must encrypt; passwords are stored hashed.
c2s_require_encryption = true
s2s_require_encryption = true
s2s_secure_auth = false
authentication = "internal_hashed"

-- Keep a week of messages on the server for clients that sync history.
archive_expires_after = "1w"

log = {
	info = "/var/log/prosody/prosody.log";
	error = "/var/log/prosody/prosody.err";
}

certificates = "/etc/prosody/certs"

-- ctibot: the component port listens on loopback only (the default), because
-- the component secret is the only thing protecting it. If ctibot runs on
-- another machine, list that machine's address here and firewall the port.
component_ports = { 5347 }
component_interfaces = { "127.0.0.1" }

-- ctibot: the groups file that ctibot generates (its owner is the user ctibot runs
-- as; Prosody only reads it). Prosody reads it when mod_groups loads: after it
-- changes, run `prosodyctl shell "module:reload('groups', 'example.com')"` (or
-- restart Prosody); users see the new contacts at their next login.
groups_file = "/var/lib/ctibot/prosody-groups.txt"

---------- Virtual hosts ----------

VirtualHost "example.com"
	-- certificate = "/etc/prosody/certs/example.com.crt" -- found automatically in `certificates`

---------- Components ----------

-- ctibot: the CTI component. Every user and every extension gets a JID here
-- (alice@cti.example.com, 201@cti.example.com); messages to cti.example.com are
-- chat commands. The secret is shared with ctibot's [xmpp] secret.
Component "cti.example.com"
	component_secret = "change-me-to-a-long-random-secret"
