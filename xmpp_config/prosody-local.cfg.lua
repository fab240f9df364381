-- TEMPLATE, not a configuration to copy: see prosody.cfg.lua for that.
--
-- ctibot.xmpp.servers.ProsodyServer fills the $$name placeholders (every value arrives
-- already quoted as a Lua literal) and runs a throw-away Prosody from it for the
-- demo and the tests: loopback only, its own data directory, ports chosen at start,
-- no TLS, no s2s, no HTTP. It must never touch /etc/prosody or /var/lib/prosody.

daemonize = false -- started as `prosody --config FILE -F`; the parent process supervises it
run_as_root = $run_as_root -- true only when the tests run as root (CI containers)
pidfile = $pidfile
data_path = $data_path
certificates = $certificates -- an empty directory of our own: nothing to index, no noise
admin_socket = $admin_socket -- lets ProsodyServer.reload_groups() use `prosodyctl shell`

log = {
	{ levels = { min = $log_level }, to = "file", filename = $log_file };
}

-- Loopback only, and only the two ports we chose. Every other listener gets no port.
interfaces = { "127.0.0.1" }
component_interfaces = { "127.0.0.1" }
c2s_ports = { $c2s_port }
component_ports = { $component_port }
c2s_direct_tls_ports = { }
legacy_ssl_ports = { }
s2s_ports = { }
http_ports = { }
https_ports = { }

-- Plain-text logins over loopback: test clients and demo accounts need no certificates.
authentication = "internal_plain"
allow_unencrypted_plain_auth = true
c2s_require_encryption = false
s2s_require_encryption = false

modules_enabled = {
	"roster"; "saslauth"; "disco"; "presence"; "message"; "iq";
	"carbons"; "pep"; "private"; "blocklist"; "vcard4"; "vcard_legacy";
	"version"; "uptime"; "time"; "ping"; "smacks"; "csi_simple";
	"admin_shell"; "posix";
	"groups"; -- virtual JIDs of the component in users' rosters, subscription both
	$extra_modules
}
modules_disabled = { "s2s" }

-- ctibot (or the test) writes this file; Prosody reads it when mod_groups loads.
groups_file = $groups_file

VirtualHost $domain

Component $component
	component_secret = $component_secret
