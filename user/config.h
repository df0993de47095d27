/* moatd configuration: mosquitto.conf keys where mosquitto has the concept
 * (same meaning, same scope), moat_* / xdp_* keys for what it lacks.
 * See docs/config.md (every key, scope, default; refused mosquitto keys). */
#ifndef MOAT_CONFIG_H
#define MOAT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/detect_rules.h"

/* Hard bounds: a configuration is untrusted text, its footprint is bounded. */
#define CONFIG_MAX_LINE        4096   /* bytes per line, without the newline */
#define CONFIG_MAX_FILE_BYTES  (1u << 20)
#define CONFIG_MAX_LISTENERS   64
#define CONFIG_MAX_XDP_IFACES  32
#define CONFIG_MAX_INCLUDES    256    /* *.conf files per include_dir */

struct listener_conf {
    uint16_t port;
    char    *bind_address;      /* NULL: all addresses */
    int      socket_domain;     /* 0 any, 4 or 6 (mosquitto socket_domain) */
    int      max_connections;   /* -1: unlimited (mosquitto's 0 is normalised to -1) */
    /* TLS (belongs to this listener, as in mosquitto) */
    char    *certfile, *keyfile, *cafile, *capath, *crlfile, *ciphers, *ciphers_tls13;
    char    *tls_version;       /* NULL or "tlsv1.2" / "tlsv1.3": minimum */
    bool     require_certificate;
    bool     use_identity_as_username;
    bool     use_subject_as_username;
    /* per_listener_settings true: these apply to this listener only.
     * per_listener_settings false: they stay -1/NULL, the global ones apply
     * (use the config_listener_* accessors below rather than reading them). */
    int      allow_anonymous;   /* -1: inherit global */
    char    *password_file, *acl_file;
    const char *file; int line; /* where it was declared, for messages */
    /* added by the config engineer */
    bool     tls;               /* certfile+keyfile set: a TLS listener */
    int      allow_zero_length_clientid; /* -1: inherit global */
    char    *auto_id_prefix;    /* NULL: inherit global */
    bool     is_default;        /* mosquitto's default listener (port/bind_address
                                   or listener keys before the first 'listener') */
    /* moat's SNI: more certificate/key pairs, chosen by server name */
    struct sni_conf { char *name, *certfile, *keyfile; } *sni;
    size_t   n_sni;
    bool     sni_strict;        /* a name with no match is refused, not given the default */
    bool     dev_certificate;   /* no certfile: a throwaway development certificate */
};

enum cfg_tls_ktls { CFG_TLS_KTLS_AUTO = 0, CFG_TLS_KTLS_TX, CFG_TLS_KTLS_OFF };

/* Same values as enum xdp_mode in xdp/xdp_filter.h (a cast converts). */
enum cfg_xdp_mode { CFG_XDP_MODE_AUTO = 0, CFG_XDP_MODE_NATIVE = 1, CFG_XDP_MODE_GENERIC = 2 };
enum cfg_xdp_on_exit     { CFG_XDP_ON_EXIT_DETACH = 0, CFG_XDP_ON_EXIT_KEEP };
/* Same values as enum moat_block_mode in moat_abi.h. */
enum cfg_xdp_block_mode  { CFG_XDP_BLOCK_ALL = 0, CFG_XDP_BLOCK_PORTS = 1 };

struct xdp_iface_conf {
    char *name;                  /* interface name, 1..15 bytes */
    enum cfg_xdp_mode mode;
    const char *file; int line;
};

enum log_dest_kind { LOG_DEST_STDERR = 0, LOG_DEST_STDOUT, LOG_DEST_SYSLOG, LOG_DEST_FILE };

struct moat_config {
    char    *source;            /* file name, or "(embedded default)" */
    struct listener_conf *listeners;
    size_t   n_listeners;

    bool     per_listener_settings;
    bool     allow_anonymous;        /* default: true only for the embedded default */
    char    *password_file;
    char    *acl_file;
    bool     allow_zero_length_clientid;  /* default true */
    char    *auto_id_prefix;         /* default "auto-" */
    uint32_t max_packet_size;        /* 0: protocol maximum; moat default 1 MiB + header */
    uint16_t max_inflight_messages;  /* default 20; 0 = 65535 */
    uint32_t max_queued_messages;    /* default 1000; 0 = unlimited, clamped */
    uint64_t max_queued_bytes;       /* 0: no byte limit */
    bool     queue_qos0_messages;    /* default false */
    bool     retain_available;       /* default true */
    uint16_t max_keepalive;          /* default 65535 */
    uint32_t persistent_client_expiration; /* seconds; 0 = never */
    uint32_t sys_interval;           /* seconds; 0 disables $SYS; default 10 */
    bool     persistence;
    char    *persistence_location;
    char    *persistence_file;
    char    *persistence_key_file;   /* store encryption key (64 hex chars); NULL: not encrypted */
    bool     moat_persistence_fsync; /* default true: durable commits */
    uint64_t moat_persistence_map_size; /* LMDB map size in bytes; default 256 MiB */
    uint32_t autosave_interval;
    int      log_types;              /* bitmask of LOG_T_* (log.h) */
    char    *log_dest;               /* "stderr", "stdout", "syslog", "file PATH" */
    char    *pid_file;
    char    *user;                   /* drop privileges to this user */

    /* moat's own keys */
    uint32_t moat_connect_timeout;   /* seconds a TCP connection may take to CONNECT; default 10 */
    uint64_t moat_max_output_bytes;  /* per-connection unsent bytes before QoS 0 is dropped; default 4 MiB */

    /* added by the config engineer */
    bool     local_only;             /* no listener/port/bind_address: loopback 1883 only (mosquitto 2) */
    bool     connection_messages;    /* default true */
    bool     log_timestamp;          /* default true */
    enum log_dest_kind log_dest_kind;
    char    *log_file;               /* log_dest file PATH: PATH, else NULL */

    /* XDP filter (bpf/, moatd loader) */
    struct xdp_iface_conf *xdp_interfaces;  /* none: XDP filter off */
    size_t   n_xdp_interfaces;
    char    *bpf_pin_path;           /* default /sys/fs/bpf/moat */
    enum cfg_xdp_on_exit xdp_on_exit;    /* default detach (fail-open) */
    uint32_t xdp_syn_rate;           /* SYNs/s per source; default 100; 0 = no limit */
    uint32_t xdp_syn_burst;          /* default 200; 0 = same as xdp_syn_rate (as the ABI) */
    uint8_t  xdp_ipv6_prefix;        /* IPv6 sources are grouped by /N; default 64 */
    enum cfg_xdp_block_mode xdp_block_mode; /* default ports */
    char    *control_socket;         /* moatctl socket; default /run/moat/moatd.sock */

    /* Abnormal-behaviour detection (moat_detect, moat_allow, ...) */
    struct det_rule detect[DET__COUNT];
    uint32_t moat_block_ttl_max;     /* seconds; escalation cap; default 86400 */
    bool     moat_allow_loopback;    /* loopback never blocked; default true */
    bool     moat_acl_deny_disconnect; /* denied PUBLISH closes the connection; default false */
    char    *moat_block_state_file;  /* permanent blocks across reboots; default /var/lib/moat/blocks */
    uint32_t moat_tls_handshake_timeout; /* seconds; default 10 */
    char    *moat_state_dir;         /* moatd's own files; default /var/lib/moat */
    enum cfg_tls_ktls moat_tls_ktls; /* auto: kernel TLS where offered */
    struct moat_allow_conf { uint8_t family, prefixlen, addr[16]; } *allow;
    size_t   n_allow;

    /* Owned copies of every file name read; listener_conf.file and
     * xdp_iface_conf.file point here. */
    char   **file_names;
    size_t   n_file_names;
};

/* config_load_file / config_load_buffer / config_load_default:
 * cfg is overwritten (not freed first). On success return 0; the caller owns
 * cfg and releases it with config_free. On failure return -1 with one line
 * "FILE:LINE: key 'x': reason" (or "FILE: reason") in err, and cfg holds
 * nothing (config_free on it is harmless). err may be NULL when errlen is 0. */
int  config_load_file(struct moat_config *cfg, const char *path, char *err, size_t errlen);
/* Parses len bytes of buf as the main file called name (used for messages).
 * include_dir in it is resolved relative to the working directory. */
int  config_load_buffer(struct moat_config *cfg, const char *name, const char *buf, size_t len,
                        char *err, size_t errlen);
int  config_load_default(struct moat_config *cfg, char *err, size_t errlen);
/* Frees everything cfg owns and zeroes it; idempotent. */
void config_free(struct moat_config *cfg);

/* Effective security settings of a listener, resolving per_listener_settings
 * exactly as mosquitto: per-listener values when it is true, global ones
 * otherwise. Strings may be NULL (not configured). */
bool        config_listener_allow_anonymous(const struct moat_config *cfg, const struct listener_conf *l);
bool        config_listener_allow_zero_length_clientid(const struct moat_config *cfg, const struct listener_conf *l);
const char *config_listener_auto_id_prefix(const struct moat_config *cfg, const struct listener_conf *l);
const char *config_listener_password_file(const struct moat_config *cfg, const struct listener_conf *l);
const char *config_listener_acl_file(const struct moat_config *cfg, const struct listener_conf *l);

/* The embedded default configuration, as text (moatd prints it; see docs). */
extern const char config_default_text[];

#endif
