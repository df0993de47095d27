/* The declarative table of configuration keys: name, scope, type, field,
 * range, default and help. The parser (config.c) dispatches on it and
 * docs/config.md lists the same keys (a unit test checks they agree). */
#include "config_internal.h"

#include <stddef.h>
#include <string.h>

#define G(m) offsetof(struct moat_config, m), sizeof(((struct moat_config *)0)->m)
#define L(m) offsetof(struct listener_conf, m), sizeof(((struct listener_conf *)0)->m)
#define NOG 0, 0
#define NOL 0, 0

static const struct cfg_key keys[] = {
    /* --- listeners --- */
    { "listener", SC_DECLARE, KT_CUSTOM, 1, 2, NOG, NOL, 0, 0, cfg_key_listener,
      "PORT [ADDRESS]", "none (see local-only mode)",
      "Starts a listener on PORT (1..65535), bound to ADDRESS (IPv4/IPv6 literal or host name) or all addresses; the listener keys that follow belong to it." },
    { "port", SC_DEFAULT_LISTENER, KT_CUSTOM, 1, 1, NOG, NOL, 0, 0, cfg_key_port,
      "PORT", "1883",
      "Deprecated (as in mosquitto): port of the default listener." },
    { "bind_address", SC_DEFAULT_LISTENER, KT_CUSTOM, 1, 1, NOG, NOL, 0, 0, cfg_key_bind_address,
      "ADDRESS", "all addresses",
      "Deprecated (as in mosquitto): address the default listener binds to." },
    { "socket_domain", SC_LISTENER, KT_CUSTOM, 1, 1, NOG, NOL, 0, 0, cfg_key_socket_domain,
      "ipv4|ipv6", "both",
      "Restricts the listener to IPv4 or IPv6." },
    { "max_connections", SC_LISTENER, KT_CUSTOM, 1, 1, NOG, NOL, 0, 0, cfg_key_max_connections,
      "COUNT", "-1",
      "Maximum simultaneous clients on this listener; -1 (or 0, as in mosquitto) is unlimited." },
    { "protocol", SC_LISTENER, KT_CUSTOM, 1, 1, NOG, NOL, 0, 0, cfg_key_protocol,
      "mqtt", "mqtt",
      "Protocol of the listener; only mqtt (MQTT 3.1.1 over TCP/TLS): websockets is refused." },
    /* --- TLS, per listener --- */
    { "certfile", SC_LISTENER, KT_STRING, 1, 1, NOG, L(certfile), 0, 0, NULL,
      "PATH", "unset", "PEM server certificate; with keyfile it makes the listener TLS." },
    { "keyfile", SC_LISTENER, KT_STRING, 1, 1, NOG, L(keyfile), 0, 0, NULL,
      "PATH", "unset", "PEM private key of certfile." },
    { "cafile", SC_LISTENER, KT_STRING, 1, 1, NOG, L(cafile), 0, 0, NULL,
      "PATH", "unset", "PEM CA certificates trusted for client certificates." },
    { "capath", SC_LISTENER, KT_STRING, 1, 1, NOG, L(capath), 0, 0, NULL,
      "DIR", "unset", "Directory of hashed PEM CA certificates (openssl rehash)." },
    { "crlfile", SC_LISTENER, KT_STRING, 1, 1, NOG, L(crlfile), 0, 0, NULL,
      "PATH", "unset", "PEM certificate revocation list checked against client certificates." },
    { "ciphers", SC_LISTENER, KT_STRING, 1, 1, NOG, L(ciphers), 0, 0, NULL,
      "LIST", "OpenSSL default", "TLS 1.2 cipher list (OpenSSL syntax)." },
    { "ciphers_tls1.3", SC_LISTENER, KT_STRING, 1, 1, NOG, L(ciphers_tls13), 0, 0, NULL,
      "LIST", "OpenSSL default", "TLS 1.3 cipher suites (OpenSSL syntax)." },
    { "tls_version", SC_LISTENER, KT_CUSTOM, 1, 1, NOG, NOL, 0, 0, cfg_key_tls_version,
      "tlsv1.2|tlsv1.3", "tlsv1.2", "Minimum TLS version; moat supports TLS 1.2 and 1.3 only." },
    { "require_certificate", SC_LISTENER, KT_BOOL, 1, 1, NOG, L(require_certificate), 0, 0, NULL,
      "true|false", "false", "Clients must present a certificate signed by cafile/capath." },
    { "use_identity_as_username", SC_LISTENER, KT_BOOL, 1, 1, NOG, L(use_identity_as_username), 0, 0, NULL,
      "true|false", "false", "Use the client certificate's CN as username (needs require_certificate)." },
    { "use_subject_as_username", SC_LISTENER, KT_BOOL, 1, 1, NOG, L(use_subject_as_username), 0, 0, NULL,
      "true|false", "false", "Use the client certificate's full subject as username (needs require_certificate)." },
    { "moat_sni_cert", SC_LISTENER, KT_CUSTOM, 3, 3, NOG, NOL, 0, 0, cfg_key_moat_sni_cert,
      "NAME CERTFILE KEYFILE", "none",
      "Repeatable; a further certificate/key pair this listener presents to clients asking for server name NAME (SNI); others get certfile/keyfile." },
    { "moat_dev_certificate", SC_LISTENER, KT_BOOL, 1, 1, NOG, L(dev_certificate), 0, 0, NULL,
      "true|false", "false", "Without certfile/keyfile: TLS with a throwaway development CA and certificate made under moat_state_dir/dev-tls (not for production)." },
    { "moat_sni_strict", SC_LISTENER, KT_BOOL, 1, 1, NOG, L(sni_strict), 0, 0, NULL,
      "true|false", "false", "Refuse a handshake whose server name matches no moat_sni_cert, instead of presenting certfile." },
    /* --- security: global, or per listener with per_listener_settings --- */
    { "per_listener_settings", SC_GLOBAL, KT_CUSTOM, 1, 1, G(per_listener_settings), NOL, 0, 0,
      cfg_key_per_listener_settings, "true|false", "false",
      "Makes allow_anonymous, password_file, acl_file, allow_zero_length_clientid and auto_id_prefix per listener; must precede them." },
    { "allow_anonymous", SC_SECURITY, KT_CUSTOM, 1, 1, G(allow_anonymous), L(allow_anonymous), 0, 0,
      cfg_key_allow_anonymous, "true|false", "false (true in local-only mode)",
      "Whether clients without a username may connect." },
    { "password_file", SC_SECURITY, KT_STRING, 1, 1, G(password_file), L(password_file), 0, 0, NULL,
      "PATH", "unset", "mosquitto_passwd file of allowed users." },
    { "acl_file", SC_SECURITY, KT_STRING, 1, 1, G(acl_file), L(acl_file), 0, 0, NULL,
      "PATH", "unset", "mosquitto ACL file (topic/user/pattern lines)." },
    { "allow_zero_length_clientid", SC_SECURITY, KT_BOOL, 1, 1, G(allow_zero_length_clientid),
      L(allow_zero_length_clientid), 0, 0, NULL, "true|false", "true",
      "Accept an empty client id and assign auto_id_prefix plus a unique suffix." },
    { "auto_id_prefix", SC_SECURITY, KT_STRING, 1, 1, G(auto_id_prefix), L(auto_id_prefix), 0, 0, NULL,
      "PREFIX", "auto-", "Prefix of generated client ids." },
    /* --- limits --- */
    { "max_packet_size", SC_GLOBAL, KT_CUSTOM, 1, 1, G(max_packet_size), NOL, 0, 0, cfg_key_max_packet_size,
      "BYTES", "0 (protocol maximum); embedded default 1049600",
      "Largest MQTT packet accepted; larger ones disconnect the client. 20..268435460." },
    { "max_inflight_messages", SC_GLOBAL, KT_CUSTOM, 1, 1, G(max_inflight_messages), NOL, 0, 0, cfg_key_max_inflight,
      "COUNT", "20", "Outgoing QoS 1/2 messages in flight per client; 0 (or 65535) = no maximum." },
    { "max_queued_messages", SC_GLOBAL, KT_UINT, 1, 1, G(max_queued_messages), NOL, 0, 2147483647u, NULL,
      "COUNT", "1000", "QoS 1/2 messages queued per client beyond those in flight; 0 = no maximum." },
    { "max_queued_bytes", SC_GLOBAL, KT_UINT, 1, 1, G(max_queued_bytes), NOL, 0, 1ull << 40, NULL,
      "BYTES", "0", "Bytes queued per client beyond those in flight; 0 = no maximum." },
    { "queue_qos0_messages", SC_GLOBAL, KT_BOOL, 1, 1, G(queue_qos0_messages), NOL, 0, 0, NULL,
      "true|false", "false", "Also queue QoS 0 messages for disconnected persistent clients (non-standard)." },
    { "retain_available", SC_GLOBAL, KT_BOOL, 1, 1, G(retain_available), NOL, 0, 0, NULL,
      "true|false", "true", "If false, a PUBLISH with the retain flag disconnects the client." },
    { "max_keepalive", SC_GLOBAL, KT_UINT, 1, 1, G(max_keepalive), NOL, 0, 65535, NULL,
      "SECONDS", "65535", "Largest keepalive a client may use." },
    { "persistent_client_expiration", SC_GLOBAL, KT_CUSTOM, 1, 1, G(persistent_client_expiration), NOL, 0, 0,
      cfg_key_expiration, "DURATION", "never",
      "Remove persistent sessions not reconnected within DURATION: N followed by h, d, w, m (30 days) or y (365 days)." },
    { "sys_interval", SC_GLOBAL, KT_UINT, 1, 1, G(sys_interval), NOL, 0, 65535, NULL,
      "SECONDS", "10", "Period of $SYS updates; 0 disables $SYS." },
    /* --- persistence --- */
    { "persistence", SC_GLOBAL, KT_BOOL, 1, 1, G(persistence), NOL, 0, 0, NULL,
      "true|false", "false", "Save sessions, subscriptions and retained messages to disk." },
    { "retained_persistence", SC_GLOBAL, KT_BOOL, 1, 1, G(persistence), NOL, 0, 0, NULL,
      "true|false", "false", "Undocumented mosquitto alias of persistence, accepted as mosquitto does." },
    { "persistence_location", SC_GLOBAL, KT_STRING, 1, 1, G(persistence_location), NOL, 0, 0, NULL,
      "DIR", "working directory", "Directory of the persistence database." },
    { "persistence_file", SC_GLOBAL, KT_STRING, 1, 1, G(persistence_file), NOL, 0, 0, NULL,
      "NAME", "chosen by the persistence engine", "File name of the persistence database." },
    { "persistence_key_file", SC_GLOBAL, KT_STRING, 1, 1, G(persistence_key_file), NOL, 0, 0, NULL,
      "PATH", "unset (not encrypted)", "Owner-only file of 64 hex characters (openssl rand -hex 32): encrypts the store with AES-256-GCM." },
    { "moat_persistence_fsync", SC_GLOBAL, KT_BOOL, 1, 1, G(moat_persistence_fsync), NOL, 0, 0, NULL,
      "true|false", "true", "Sync every commit to disk before acknowledging; false is faster but a machine crash may lose acknowledged messages." },
    { "moat_persistence_map_size", SC_GLOBAL, KT_UINT, 1, 1, G(moat_persistence_map_size), NOL, 1048576, 1ull << 40, NULL,
      "BYTES", "268435456", "LMDB map size: the largest the store file can grow; stored data may use half of it (the rest keeps commits from failing), beyond that new persistent work is refused (not acknowledged)." },
    { "autosave_interval", SC_GLOBAL, KT_UINT, 1, 1, G(autosave_interval), NOL, 0, 2147483647u, NULL,
      "SECONDS", "1800", "Seconds between saves; 0 = only at exit." },
    /* --- logging and process --- */
    { "log_type", SC_GLOBAL, KT_CUSTOM, 1, 1, G(log_types), NOL, 0, 0, cfg_key_log_type,
      "TYPE", "error warning notice information",
      "Repeatable; error, warning, notice, information, debug, subscribe, unsubscribe, all, none. The first log_type replaces the default set." },
    { "log_dest", SC_GLOBAL, KT_CUSTOM, 1, -1, G(log_dest), NOL, 0, 0, cfg_key_log_dest,
      "stderr|stdout|syslog|none|file PATH", "stderr",
      "Where the log goes; moat writes to one destination (none disables logging)." },
    { "log_timestamp", SC_GLOBAL, KT_BOOL, 1, 1, G(log_timestamp), NOL, 0, 0, NULL,
      "true|false", "true", "Prefix log lines with a timestamp." },
    { "connection_messages", SC_GLOBAL, KT_BOOL, 1, 1, G(connection_messages), NOL, 0, 0, NULL,
      "true|false", "true", "Log client connects and disconnects." },
    { "pid_file", SC_GLOBAL, KT_STRING, 1, 1, G(pid_file), NOL, 0, 0, NULL,
      "PATH", "unset (no pid file)", "Write the daemon's pid here." },
    { "user", SC_GLOBAL, KT_STRING, 1, 1, G(user), NOL, 0, 0, NULL,
      "NAME", "unset (no privilege drop)", "When started as root, switch to this user after binding." },
    { "include_dir", SC_MAIN_FILE, KT_CUSTOM, 1, -1, NOG, NOL, 0, 0, cfg_key_include_dir,
      "DIR", "unset", "Parse DIR/*.conf in mosquitto's order (case-insensitive, upper case first); main file only." },
    /* --- moat's own --- */
    { "moat_connect_timeout", SC_GLOBAL, KT_UINT, 1, 1, G(moat_connect_timeout), NOL, 1, 3600, NULL,
      "SECONDS", "10", "A TCP (or TLS) connection that has not sent CONNECT within this time is closed." },
    { "moat_max_output_bytes", SC_GLOBAL, KT_UINT, 1, 1, G(moat_max_output_bytes), NOL, 4096, 1ull << 32, NULL,
      "BYTES", "4194304", "Unsent bytes per connection beyond which QoS 0 messages to it are dropped." },
    { "control_socket", SC_GLOBAL, KT_STRING, 1, 1, G(control_socket), NOL, 0, 0, NULL,
      "PATH", "/run/moat/moatd.sock", "Unix socket moatctl talks to." },
    /* --- abnormal-behaviour detection --- */
    { "moat_detect", SC_GLOBAL, KT_CUSTOM, 2, 5, NOG, NOL, 0, 0, cfg_key_moat_detect,
      "KIND off | KIND THRESHOLD WINDOW ACTION [TTL]", "see docs/security.md",
      "Repeatable; a rule for KIND (connect_flood, auth_failure, auth_failure_user, abnormal_close, protocol_error, tls_failure, silent, topic_scan, acl_denied, undeliverable, syn_flood): THRESHOLD events within WINDOW trigger ACTION (log, disconnect, block_ip, block_client, block_user) for TTL, doubled per repeat offence." },
    { "moat_block_ttl_max", SC_GLOBAL, KT_UINT, 1, 1, G(moat_block_ttl_max), NOL, 1, 31536000, NULL,
      "SECONDS", "86400", "Upper bound of an escalated block's TTL." },
    { "moat_allow", SC_GLOBAL, KT_CUSTOM, 1, 8, NOG, NOL, 0, 0, cfg_key_moat_allow,
      "CIDR...", "none", "Repeatable; sources that detection never blocks or disconnects (operators' hosts)." },
    { "moat_tls_handshake_timeout", SC_GLOBAL, KT_UINT, 1, 1, G(moat_tls_handshake_timeout), NOL, 1, 300, NULL,
      "SECONDS", "10", "A TLS handshake that has not finished within this time is dropped." },
    { "moat_tls_ktls", SC_GLOBAL, KT_CUSTOM, 1, 1, G(moat_tls_ktls), NOL, 0, 0, cfg_key_moat_tls_ktls,
      "auto|tx|off", "auto", "Kernel TLS: both directions where the kernel offers it (auto), transmit only (tx), or userspace TLS only (off)." },
    { "moat_state_dir", SC_GLOBAL, KT_STRING, 1, 1, G(moat_state_dir), NOL, 0, 0, NULL,
      "DIR", "/var/lib/moat", "moatd's own files (development certificates); ~/.local/state/moat when not writable." },
    { "moat_block_state_file", SC_GLOBAL, KT_STRING, 1, 1, G(moat_block_state_file), NOL, 0, 0, NULL,
      "PATH", "/var/lib/moat/blocks", "Where permanent source blocks are kept so they survive a reboot (bpffs does not)." },
    { "moat_acl_deny_disconnect", SC_GLOBAL, KT_BOOL, 1, 1, G(moat_acl_deny_disconnect), NOL, 0, 0, NULL,
      "true|false", "false", "A PUBLISH the ACL denies closes the connection (default: acknowledged per QoS, not delivered)." },
    { "moat_allow_loopback", SC_GLOBAL, KT_BOOL, 1, 1, G(moat_allow_loopback), NOL, 0, 0, NULL,
      "true|false", "true", "Loopback sources (127.0.0.0/8, ::1) are never blocked by detection." },
    /* --- XDP filter --- */
    { "xdp_interface", SC_GLOBAL, KT_CUSTOM, 1, 2, NOG, NOL, 0, 0, cfg_key_xdp_interface,
      "IFNAME [auto|native|generic]", "none (XDP off)",
      "Repeatable; attach the XDP filter to IFNAME in the given mode (auto: native, else generic)." },
    { "bpf_pin_path", SC_GLOBAL, KT_STRING, 1, 1, G(bpf_pin_path), NOL, 0, 0, NULL,
      "DIR", "/sys/fs/bpf/moat", "bpffs directory where the filter's maps are pinned." },
    { "xdp_on_exit", SC_GLOBAL, KT_CUSTOM, 1, 1, G(xdp_on_exit), NOL, 0, 0, cfg_key_xdp_on_exit,
      "detach|keep", "detach", "On exit detach the filter (fail-open) or keep it attached." },
    { "xdp_syn_rate", SC_GLOBAL, KT_UINT, 1, 1, G(xdp_syn_rate), NOL, 0, 10000000, NULL,
      "COUNT", "100", "TCP SYNs per second allowed per source (token bucket rate); 0 = no limit." },
    { "xdp_syn_burst", SC_GLOBAL, KT_UINT, 1, 1, G(xdp_syn_burst), NOL, 0, 100000000, NULL,
      "COUNT", "200", "Token bucket depth for xdp_syn_rate; 0 = same as xdp_syn_rate." },
    { "xdp_ipv6_prefix", SC_GLOBAL, KT_UINT, 1, 1, G(xdp_ipv6_prefix), NOL, 1, 128, NULL,
      "BITS", "64", "IPv6 sources are rate-limited and blocked per /BITS prefix." },
    { "xdp_block_mode", SC_GLOBAL, KT_CUSTOM, 1, 1, G(xdp_block_mode), NOL, 0, 0, cfg_key_xdp_block_mode,
      "all|ports", "ports", "A blocked source loses only the MQTT listener ports, or all traffic." },
};

/* mosquitto keys moat does not implement. Refused, never ignored. */
static const struct cfg_refused refused[] = {
    /* bridging */
    { "connection", "bridging" }, { "address", "bridging" }, { "addresses", "bridging" },
    { "bridge_*", "bridging" }, { "cleansession", "bridging" }, { "local_cleansession", "bridging" },
    { "clientid", "bridging" }, { "local_clientid", "bridging" }, { "local_password", "bridging" },
    { "local_username", "bridging" }, { "notifications", "bridging" },
    { "notifications_local_only", "bridging" }, { "notification_topic", "bridging" },
    { "remote_clientid", "bridging" }, { "remote_password", "bridging" },
    { "remote_username", "bridging" }, { "username", "bridging" }, { "password", "bridging" },
    { "restart_timeout", "bridging" }, { "round_robin", "bridging" }, { "start_type", "bridging" },
    { "threshold", "bridging" }, { "topic", "bridging" }, { "try_private", "bridging" },
    { "keepalive_interval", "bridging" }, { "idle_timeout", "bridging" },
    /* websockets */
    { "http_dir", "websockets" }, { "websockets_log_level", "websockets" },
    { "websockets_headers_size", "websockets" },
    /* plugins */
    { "plugin", "plugins" }, { "plugin_opt_*", "plugins" }, { "global_plugin", "plugins" },
    { "auth_plugin", "plugins" }, { "auth_opt_*", "plugins" },
    { "auth_plugin_deny_special_chars", "plugins" },
    /* TLS features outside moat's certificate TLS 1.2/1.3 */
    { "psk_hint", "TLS-PSK" }, { "psk_file", "TLS-PSK" },
    { "tls_engine", "OpenSSL engines" }, { "tls_engine_kpass_sha1", "OpenSSL engines" },
    { "tls_keyform", "OpenSSL engines" }, { "dhparamfile", "finite-field DHE parameters" },
    /* MQTT v5 only: moat speaks MQTT 3.1.1 */
    { "max_topic_alias", "MQTT v5 only" }, { "max_qos", "per-listener QoS limits" },
    { "maximum_qos", "per-listener QoS limits" },
    /* not implemented */
    { "mount_point", "mount points" }, { "bind_interface", "bind_interface; use listener PORT ADDRESS" },
    { "use_username_as_clientid", "use_username_as_clientid" },
    { "allow_duplicate_messages", "deprecated in mosquitto" },
    { "autosave_on_changes", "change-count autosave" }, { "check_retain_source", "retain source checks" },
    { "clientid_prefixes", "deprecated in mosquitto" }, { "log_facility", "syslog facilities" },
    { "log_timestamp_format", "custom timestamp formats" }, { "max_inflight_bytes", "byte-based inflight limits" },
    { "memory_limit", "a heap limit" }, { "message_size_limit", "message_size_limit; use max_packet_size" },
    { "set_tcp_nodelay", "set_tcp_nodelay" },
    { "upgrade_outgoing_qos", "QoS upgrading (non-standard)" },
    { "enable_control_api", "the mosquitto control API; use moatctl" },
    { "accept_protocol_versions", "MQTT versions other than 3.1.1" },
};

const struct cfg_key *cfg_key_find(const char *name)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!strcmp(keys[i].name, name))
            return &keys[i];
    return NULL;
}

const struct cfg_refused *cfg_refused_find(const char *name)
{
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        const char *r = refused[i].name;
        size_t n = strlen(r);
        if (n && r[n - 1] == '*') {
            if (!strncmp(r, name, n - 1))
                return &refused[i];
        } else if (!strcmp(r, name)) {
            return &refused[i];
        }
    }
    return NULL;
}

const struct cfg_key *cfg_keys(size_t *n)
{
    *n = sizeof keys / sizeof keys[0];
    return keys;
}

const struct cfg_refused *cfg_refused_keys(size_t *n)
{
    *n = sizeof refused / sizeof refused[0];
    return refused;
}
