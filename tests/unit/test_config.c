/* Unit tests for moatd's configuration parser (user/config*.c): every key,
 * every error path with its FILE:LINE, mosquitto 2.0's scope rules
 * (mosquitto.conf(5)), include_dir order, the embedded default. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"
#include "config_internal.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fx {
    char dir[64];
    char path[128];
    char err[1024];
    struct moat_config cfg;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/moat-cfgtest-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/moat.conf", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    config_free(&f->cfg);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
    assert_int_equal(fclose(fp), 0);
}

/* Writes text as the main file and loads it. */
static int load(struct fx *f, const char *text)
{
    config_free(&f->cfg);
    write_file(f->path, text);
    return config_load_file(&f->cfg, f->path, f->err, sizeof f->err);
}

/* Loads text, expects failure with "PATH:LINE: msg" in the error. */
static void expect_error(struct fx *f, const char *text, int line, const char *msg)
{
    int rc = load(f, text);
    char want[512];
    snprintf(want, sizeof want, "%s:%d: %s", f->path, line, msg);
    if (rc != -1 || !strstr(f->err, want))
        fail_msg("config:\n%s\nwant error containing: %s\ngot rc=%d err: %s", text, want, rc, f->err);
    /* a failed load leaves nothing to free */
    assert_null(f->cfg.listeners);
    assert_null(f->cfg.file_names);
}

static void test_embedded_default(void **state)
{
    struct fx *f = *state;
    assert_int_equal(config_load_default(&f->cfg, f->err, sizeof f->err), 0);
    struct moat_config *c = &f->cfg;
    assert_string_equal(c->source, "(embedded default)");
    assert_int_equal(c->n_listeners, 2);
    assert_int_equal(c->listeners[0].port, 1883);
    assert_string_equal(c->listeners[0].bind_address, "127.0.0.1");
    assert_false(c->listeners[0].tls);
    /* TLS on loopback with a development certificate made at start */
    assert_int_equal(c->listeners[1].port, 8883);
    assert_string_equal(c->listeners[1].bind_address, "127.0.0.1");
    assert_true(c->listeners[1].dev_certificate);
    assert_null(c->listeners[1].certfile);
    assert_false(c->local_only);
    assert_true(c->allow_anonymous);
    assert_true(config_listener_allow_anonymous(c, &c->listeners[0]));
    assert_int_equal(c->max_packet_size, 1049600);
    assert_int_equal(c->moat_connect_timeout, 10);
    assert_int_equal(c->moat_max_output_bytes, 4194304);
    assert_int_equal(c->max_inflight_messages, 20);
    assert_int_equal(c->max_queued_messages, 1000);
    assert_int_equal(c->log_types, LOG_T_DEFAULT);
    assert_string_equal(c->log_dest, "stderr");
    assert_string_equal(c->control_socket, "/run/moat/moatd.sock");
    assert_int_equal(c->n_xdp_interfaces, 0);
    /* the text is a sample file: commented */
    assert_non_null(strstr(config_default_text, "# "));
}

/* A file that only declares a listener gets mosquitto 2.0's defaults. */
static void test_file_defaults(void **state)
{
    struct fx *f = *state;
    assert_int_equal(load(f, "listener 1883\n"), 0);
    struct moat_config *c = &f->cfg;
    assert_string_equal(c->source, f->path);
    assert_false(c->allow_anonymous);   /* a listener is configured: false */
    assert_true(c->allow_zero_length_clientid);
    assert_string_equal(c->auto_id_prefix, "auto-");
    assert_int_equal(c->max_packet_size, 0);
    assert_int_equal(c->max_inflight_messages, 20);
    assert_int_equal(c->max_queued_messages, 1000);
    assert_int_equal(c->max_queued_bytes, 0);
    assert_false(c->queue_qos0_messages);
    assert_true(c->retain_available);
    assert_int_equal(c->max_keepalive, 65535);
    assert_int_equal(c->persistent_client_expiration, 0);
    assert_int_equal(c->sys_interval, 10);
    assert_false(c->persistence);
    assert_null(c->persistence_location);
    assert_int_equal(c->autosave_interval, 1800);
    assert_int_equal(c->log_types, LOG_T_DEFAULT);
    assert_string_equal(c->log_dest, "stderr");
    assert_int_equal(c->log_dest_kind, LOG_DEST_STDERR);
    assert_true(c->log_timestamp);
    assert_true(c->connection_messages);
    assert_null(c->pid_file);
    assert_null(c->user);
    assert_int_equal(c->moat_connect_timeout, 10);
    assert_int_equal(c->moat_max_output_bytes, 4194304);
    assert_string_equal(c->bpf_pin_path, "/sys/fs/bpf/moat");
    assert_int_equal(c->xdp_on_exit, CFG_XDP_ON_EXIT_DETACH);
    assert_int_equal(c->xdp_syn_rate, 100);
    assert_int_equal(c->xdp_syn_burst, 200);
    assert_int_equal(c->xdp_ipv6_prefix, 64);
    assert_int_equal(c->xdp_block_mode, CFG_XDP_BLOCK_PORTS);
    assert_string_equal(c->control_socket, "/run/moat/moatd.sock");
    assert_int_equal(c->n_listeners, 1);
    struct listener_conf *l = &c->listeners[0];
    assert_int_equal(l->port, 1883);
    assert_null(l->bind_address);
    assert_int_equal(l->socket_domain, 0);
    assert_int_equal(l->max_connections, -1);
    assert_int_equal(l->allow_anonymous, -1);
    assert_string_equal(l->file, f->path);
    assert_int_equal(l->line, 1);
}

/* mosquitto.conf(5) allow_anonymous: no listener in the file = local only,
 * anonymous allowed; mosquitto 2 listens on 127.0.0.1 and ::1 port 1883. */
static void test_no_listener_is_local_only(void **state)
{
    struct fx *f = *state;
    assert_int_equal(load(f, "# nothing but a comment\nmax_queued_messages 10\n"), 0);
    struct moat_config *c = &f->cfg;
    assert_true(c->local_only);
    assert_true(c->allow_anonymous);
    assert_int_equal(c->n_listeners, 2);
    assert_int_equal(c->listeners[0].port, 1883);
    assert_string_equal(c->listeners[0].bind_address, "127.0.0.1");
    assert_int_equal(c->listeners[0].socket_domain, 4);
    assert_string_equal(c->listeners[1].bind_address, "::1");
    assert_int_equal(c->listeners[1].socket_domain, 6);
    /* an explicit setting wins even in local-only mode */
    assert_int_equal(load(f, "allow_anonymous false\n"), 0);
    assert_true(f->cfg.local_only);
    assert_false(f->cfg.allow_anonymous);
}

static void test_every_key(void **state)
{
    struct fx *f = *state;
    const char *text =
        "listener 8883 192.0.2.1\n"
        "socket_domain ipv4\n"
        "max_connections 500\n"
        "protocol mqtt\n"
        "certfile /c/server.crt\n"
        "keyfile /c/server.key\n"
        "cafile /c/ca.crt\n"
        "capath /c/capath\n"
        "crlfile /c/crl.pem\n"
        "ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256\n"
        "ciphers_tls1.3 TLS_AES_128_GCM_SHA256\n"
        "tls_version tlsv1.3\n"
        "require_certificate true\n"
        "use_identity_as_username true\n"
        "use_subject_as_username false\n"
        "listener 1884 ::1\n"
        "listener 1885 broker.example\n"
        "max_connections 0\n"
        "allow_anonymous true\n"
        "password_file /p/passwd file\n"
        "acl_file /p/acl\n"
        "allow_zero_length_clientid false\n"
        "auto_id_prefix gw-\n"
        "max_packet_size 65536\n"
        "max_inflight_messages 65535\n"
        "max_queued_messages 0\n"
        "max_queued_bytes 1000000\n"
        "queue_qos0_messages true\n"
        "retain_available false\n"
        "max_keepalive 300\n"
        "persistent_client_expiration 2w\n"
        "sys_interval 0\n"
        "persistence 1\n"
        "persistence_location /var/lib/moat/\n"
        "persistence_file moat.db\n"
        "autosave_interval 0\n"
        "log_type debug\n"
        "log_type subscribe\n"
        "log_dest syslog\n"
        "log_timestamp false\n"
        "connection_messages false\n"
        "pid_file /run/moat/moatd.pid\n"
        "user moat\n"
        "moat_connect_timeout 30\n"
        "moat_max_output_bytes 65536\n"
        "xdp_interface eth0\n"
        "xdp_interface enp3s0 native\n"
        "xdp_interface wlan0 generic\n"
        "bpf_pin_path /sys/fs/bpf/gw\n"
        "xdp_on_exit keep\n"
        "xdp_syn_rate 50\n"
        "xdp_syn_burst 75\n"
        "xdp_ipv6_prefix 48\n"
        "xdp_block_mode all\n"
        "control_socket /tmp/moat.sock\n"
        "retained_persistence true\n";
    int rc = load(f, text);
    if (rc)
        fail_msg("%s", f->err);
    struct moat_config *c = &f->cfg;
    assert_int_equal(c->n_listeners, 3);
    struct listener_conf *l = &c->listeners[0];
    assert_int_equal(l->port, 8883);
    assert_string_equal(l->bind_address, "192.0.2.1");
    assert_int_equal(l->socket_domain, 4);
    assert_int_equal(l->max_connections, 500);
    assert_string_equal(l->certfile, "/c/server.crt");
    assert_string_equal(l->keyfile, "/c/server.key");
    assert_string_equal(l->cafile, "/c/ca.crt");
    assert_string_equal(l->capath, "/c/capath");
    assert_string_equal(l->crlfile, "/c/crl.pem");
    assert_string_equal(l->ciphers, "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256");
    assert_string_equal(l->ciphers_tls13, "TLS_AES_128_GCM_SHA256");
    assert_string_equal(l->tls_version, "tlsv1.3");
    assert_true(l->require_certificate);
    assert_true(l->use_identity_as_username);
    assert_false(l->use_subject_as_username);
    assert_true(l->tls);
    assert_string_equal(c->listeners[1].bind_address, "::1");
    assert_false(c->listeners[1].tls);
    assert_null(c->listeners[1].certfile);   /* TLS keys stayed on 8883 */
    assert_string_equal(c->listeners[2].bind_address, "broker.example");
    assert_int_equal(c->listeners[2].max_connections, -1);   /* 0 = unlimited */
    assert_int_equal(c->listeners[2].line, 17);
    /* per_listener_settings false: security keys inside a listener block are global */
    assert_true(c->allow_anonymous);
    assert_int_equal(c->listeners[2].allow_anonymous, -1);
    assert_string_equal(c->password_file, "/p/passwd file");  /* rest of line, as mosquitto */
    assert_null(c->listeners[2].password_file);
    assert_string_equal(config_listener_password_file(c, &c->listeners[0]), "/p/passwd file");
    assert_string_equal(c->acl_file, "/p/acl");
    assert_false(c->allow_zero_length_clientid);
    assert_string_equal(c->auto_id_prefix, "gw-");
    assert_int_equal(c->max_packet_size, 65536);
    assert_int_equal(c->max_inflight_messages, 0);   /* 65535 = no maximum */
    assert_int_equal(c->max_queued_messages, 0);
    assert_int_equal(c->max_queued_bytes, 1000000);
    assert_true(c->queue_qos0_messages);
    assert_false(c->retain_available);
    assert_int_equal(c->max_keepalive, 300);
    assert_int_equal(c->persistent_client_expiration, 14 * 86400);
    assert_int_equal(c->sys_interval, 0);
    assert_true(c->persistence);
    assert_string_equal(c->persistence_location, "/var/lib/moat/");
    assert_string_equal(c->persistence_file, "moat.db");
    assert_int_equal(c->autosave_interval, 0);
    assert_int_equal(c->log_types, LOG_T_DEBUG | LOG_T_SUBSCRIBE);  /* replaces the default */
    assert_string_equal(c->log_dest, "syslog");
    assert_int_equal(c->log_dest_kind, LOG_DEST_SYSLOG);
    assert_false(c->log_timestamp);
    assert_false(c->connection_messages);
    assert_string_equal(c->pid_file, "/run/moat/moatd.pid");
    assert_string_equal(c->user, "moat");
    assert_int_equal(c->moat_connect_timeout, 30);
    assert_int_equal(c->moat_max_output_bytes, 65536);
    assert_int_equal(c->n_xdp_interfaces, 3);
    assert_string_equal(c->xdp_interfaces[0].name, "eth0");
    assert_int_equal(c->xdp_interfaces[0].mode, CFG_XDP_MODE_AUTO);
    assert_string_equal(c->xdp_interfaces[1].name, "enp3s0");
    assert_int_equal(c->xdp_interfaces[1].mode, CFG_XDP_MODE_NATIVE);
    assert_int_equal(c->xdp_interfaces[2].mode, CFG_XDP_MODE_GENERIC);
    assert_int_equal(c->xdp_interfaces[2].line, 48);
    assert_string_equal(c->bpf_pin_path, "/sys/fs/bpf/gw");
    assert_int_equal(c->xdp_on_exit, CFG_XDP_ON_EXIT_KEEP);
    assert_int_equal(c->xdp_syn_rate, 50);
    assert_int_equal(c->xdp_syn_burst, 75);
    assert_int_equal(c->xdp_ipv6_prefix, 48);
    assert_int_equal(c->xdp_block_mode, CFG_XDP_BLOCK_ALL);
    assert_string_equal(c->control_socket, "/tmp/moat.sock");
    assert_false(c->local_only);
}

static void test_durations(void **state)
{
    struct fx *f = *state;
    static const struct { const char *v; uint32_t s; } d[] = {
        { "1h", 3600 }, { "2d", 172800 }, { "1w", 604800 }, { "1m", 2592000 },
        { "1y", 31536000 }, { "136y", 136u * 31536000u },
    };
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "listener 1883\npersistent_client_expiration %s\n", d[i].v);
        assert_int_equal(load(f, text), 0);
        assert_int_equal(f->cfg.persistent_client_expiration, d[i].s);
    }
}

/* 0 = no SYN limit / burst same as rate, as the filter's config map */
static void test_xdp_zero_rate(void **state)
{
    struct fx *f = *state;
    assert_int_equal(load(f, "listener 1883\nxdp_syn_rate 0\nxdp_syn_burst 0\n"), 0);
    assert_int_equal(f->cfg.xdp_syn_rate, 0);
    assert_int_equal(f->cfg.xdp_syn_burst, 0);
    assert_int_equal(CFG_XDP_BLOCK_ALL, 0);   /* moat_abi.h MOAT_BLOCK_ALL */
    assert_int_equal(CFG_XDP_BLOCK_PORTS, 1); /* moat_abi.h MOAT_BLOCK_PORTS */
}

static void test_log_settings(void **state)
{
    struct fx *f = *state;
    assert_int_equal(load(f, "listener 1\nlog_type all\n"), 0);
    assert_int_equal(f->cfg.log_types, LOG_T_ALL);
    assert_int_equal(load(f, "listener 1\nlog_type all\nlog_type none\nlog_type error\n"), 0);
    assert_int_equal(f->cfg.log_types, LOG_T_ERR);
    assert_int_equal(load(f, "listener 1\nlog_dest file /var/log/moat dir/moat.log\n"), 0);
    assert_string_equal(f->cfg.log_dest, "file /var/log/moat dir/moat.log");
    assert_string_equal(f->cfg.log_file, "/var/log/moat dir/moat.log");
    assert_int_equal(f->cfg.log_dest_kind, LOG_DEST_FILE);
    assert_int_equal(load(f, "listener 1\nlog_dest none\n"), 0);
    assert_int_equal(f->cfg.log_types, 0);   /* nothing is written */
    assert_int_equal(load(f, "listener 1\nlog_dest stdout\nlog_dest stdout\n"), 0);
    assert_string_equal(f->cfg.log_dest, "stdout");
    assert_int_equal(load(f, "listener 1\nlog_dest none\nlog_dest stdout\n"), 0);
    assert_string_equal(f->cfg.log_dest, "stdout");
    assert_int_equal(f->cfg.log_types, LOG_T_DEFAULT);
}

/* Lexical rules: '#' at line start (indentation allowed), blank lines,
 * CRLF, tabs and surrounding blanks. */
static void test_lexical(void **state)
{
    struct fx *f = *state;
    assert_int_equal(load(f, "# c\r\n\r\n   \t\n\t# indented comment\r\n  listener\t1883  \r\n"
                             "max_keepalive   60\t\r\n"), 0);
    assert_int_equal(f->cfg.n_listeners, 1);
    assert_int_equal(f->cfg.max_keepalive, 60);
    /* no newline at the end of the file */
    assert_int_equal(load(f, "listener 1883\nsys_interval 5"), 0);
    assert_int_equal(f->cfg.sys_interval, 5);
    /* exactly CONFIG_MAX_LINE bytes is accepted */
    char *big = malloc(CONFIG_MAX_LINE + 64);
    assert_non_null(big);
    int n = snprintf(big, CONFIG_MAX_LINE + 64, "listener 1\npid_file /");
    memset(big + n, 'a', (size_t)(CONFIG_MAX_LINE - (n - 11)));
    big[11 + CONFIG_MAX_LINE] = '\n';
    big[12 + CONFIG_MAX_LINE] = '\0';
    int rc = load(f, big);
    if (rc)
        fail_msg("%s", f->err);
    assert_int_equal(strlen(f->cfg.pid_file), CONFIG_MAX_LINE - 9);
    /* one more byte is refused, not truncated */
    big[11 + CONFIG_MAX_LINE] = 'a';
    big[12 + CONFIG_MAX_LINE] = '\n';
    big[13 + CONFIG_MAX_LINE] = '\0';
    expect_error(f, big, 2, "line longer than 4096 bytes");
    free(big);
}

struct err_case {
    const char *text;
    int line;
    const char *msg;
};

static const struct err_case errors[] = {
    { "listener 1883\nfrobnicate 1\n", 2, "key 'frobnicate': unknown key" },
    { "listener 1883\n  # ok\nconnection br0\n", 3, "'connection': mosquitto key not supported by moat (bridging)" },
    { "listener 1883\naddress 192.0.2.1:1883\n", 2, "'address': mosquitto key not supported by moat (bridging)" },
    { "listener 1883\nbridge_cafile /x\n", 2, "'bridge_cafile': mosquitto key not supported by moat (bridging)" },
    { "listener 1883\nhttp_dir /www\n", 2, "'http_dir': mosquitto key not supported by moat (websockets)" },
    { "plugin /usr/lib/p.so\n", 1, "'plugin': mosquitto key not supported by moat (plugins)" },
    { "auth_plugin /usr/lib/p.so\n", 1, "'auth_plugin': mosquitto key not supported by moat (plugins)" },
    { "plugin_opt_db x\n", 1, "'plugin_opt_db': mosquitto key not supported by moat (plugins)" },
    { "listener 1883\npsk_hint x\n", 2, "'psk_hint': mosquitto key not supported by moat (TLS-PSK)" },
    { "listener 1883\nmax_qos 1\n", 2, "'max_qos': mosquitto key not supported by moat (per-listener QoS limits)" },
    { "listener\n", 1, "key 'listener': missing value" },
    { "listener 1883 127.0.0.1 extra\n", 1, "key 'listener': too many arguments" },
    { "listener 1883\nmax_keepalive 60 # one minute\n", 2,
      "key 'max_keepalive': too many arguments (expected: SECONDS); '#' starts a comment only at the beginning of a line" },
    { "listener 1883\npassword_file /etc/pw # users\n", 2, "key 'password_file': '#' inside a value" },
    { "listener 1883\nmax_queued_messages 12x\n", 2, "key 'max_queued_messages': '12x' is not a decimal number" },
    { "listener 1883\nmax_queued_messages -5\n", 2, "key 'max_queued_messages': '-5' is not a decimal number" },
    { "listener 1883\nmax_queued_messages 0x10\n", 2, "key 'max_queued_messages': '0x10' is not a decimal number" },
    { "listener 1883\nmax_queued_messages 99999999999999999999999\n", 2, "key 'max_queued_messages': '99999999999999999999999' is not a decimal number" },
    { "listener 1883\nmax_keepalive 65536\n", 2, "key 'max_keepalive': value 65536 out of range 0..65535" },
    { "listener 1883\nmax_packet_size 19\n", 2, "key 'max_packet_size': value 19 out of range 20..268435460" },
    { "listener 1883\nxdp_ipv6_prefix 0\n", 2, "key 'xdp_ipv6_prefix': value 0 out of range 1..128" },
    { "listener 1883\nxdp_ipv6_prefix 129\n", 2, "key 'xdp_ipv6_prefix': value 129 out of range 1..128" },
    { "listener 1883\nmoat_connect_timeout 0\n", 2, "key 'moat_connect_timeout': value 0 out of range" },
    { "listener 1883\npersistence yes\n", 2, "key 'persistence': 'yes' is not a boolean" },
    { "listener 1883\nretain_available TRUE\n", 2, "key 'retain_available': 'TRUE' is not a boolean" },
    { "listener 0\n", 1, "key 'listener': port 0 means a unix socket" },
    { "listener 65536\n", 1, "key 'listener': value 65536 out of range 1..65535" },
    { "listener 1883 not_a_host!\n", 1, "key 'listener': 'not_a_host!' is not an IPv4/IPv6 address or host name" },
    { "port 70000\n", 1, "key 'port': value 70000 out of range" },
    { "port 1883\nport 1884\n", 2, "key 'port': given twice (first at " },
    { "listener 1883\nlistener 1884\nlistener 1883\n", 3, "key 'listener': port 1883 overlaps the listener declared at " },
    { "listener 1883 127.0.0.1\nlistener 1883 127.000.0.1\n", 2, "key 'listener': '127.000.0.1' is not an IPv4/IPv6 address or host name" },
    { "listener 1883 ::1\nlistener 1883 0:0:0:0:0:0:0:1\n", 2, "key 'listener': port 1883 0:0:0:0:0:0:0:1 overlaps" },
    { "listener 1883\nlistener 1883 127.0.0.1\n", 2, "key 'listener': port 1883 127.0.0.1 overlaps" },
    { "listener 1883\nsocket_domain ipv5\n", 2, "key 'socket_domain': 'ipv5' is not ipv4 or ipv6" },
    { "listener 1883 ::1\nsocket_domain ipv4\n", 1, "key 'listener': socket_domain ipv4 with the IPv6 address ::1" },
    { "listener 1883\nmax_connections -2\n", 2, "key 'max_connections': '-2' is not a decimal number" },
    { "listener 8080\nprotocol websockets\n", 2, "key 'protocol': websockets is not supported by moat" },
    { "listener 8080\nprotocol mqttsn\n", 2, "key 'protocol': 'mqttsn' is not a protocol" },
    { "listener 8883\ncertfile a\nkeyfile b\ntls_version tlsv1.1\n", 4,
      "key 'tls_version': tlsv1.1 refused: moat supports TLS 1.2 and 1.3 only" },
    { "listener 8883\ntls_version tlsv1\n", 2, "key 'tls_version': tlsv1 refused: moat supports TLS 1.2 and 1.3 only" },
    { "listener 8883\ntls_version sslv3\n", 2, "key 'tls_version': 'sslv3' is not tlsv1.2 or tlsv1.3" },
    { "listener 1883\nlistener 8883\ncertfile /c\n", 2, "key 'listener': port 8883: certfile and keyfile must be given together" },
    { "listener 8883\ncafile /ca\n", 1, "key 'listener': port 8883: TLS option 'cafile' without certfile and keyfile" },
    { "listener 8883\ncertfile a\nkeyfile b\nrequire_certificate true\n", 1,
      "key 'listener': port 8883: require_certificate needs cafile or capath" },
    { "listener 8883\ncertfile a\nkeyfile b\nuse_identity_as_username true\n", 1,
      "key 'listener': port 8883: use_identity_as_username needs require_certificate true" },
    /* listener keys before any listener: mosquitto's default listener */
    { "certfile /c\nkeyfile /k\n", 1, "key 'certfile': configures mosquitto's default listener, but no listener is declared" },
    { "max_connections 10\nlistener 8883\n", 1, "key 'max_connections': comes before the first 'listener'" },
    { "per_listener_settings true\npassword_file /pw\nlistener 1883\n", 2,
      "key 'password_file': comes before the first 'listener'" },
    { "port 1883\nlistener 1883\n", 1, "key 'port': port 1883 overlaps the listener declared at " },
    { "listener 1883\npassword_file /a\npassword_file /b\n", 3, "key 'password_file': given twice (already '/a')" },
    { "listener 1883\npassword_file /a\nper_listener_settings true\n", 3,
      "key 'per_listener_settings': must be set before any other security settings" },
    { "listener 1883\npersistent_client_expiration 10s\n", 2, "key 'persistent_client_expiration': '10s' is not a duration" },
    { "listener 1883\npersistent_client_expiration 10\n", 2, "key 'persistent_client_expiration': '10' is not a duration" },
    { "listener 1883\npersistent_client_expiration 0d\n", 2, "key 'persistent_client_expiration': duration '0d' out of range" },
    { "listener 1883\npersistent_client_expiration 137y\n", 2, "key 'persistent_client_expiration': duration '137y' out of range" },
    { "listener 1883\nlog_type verbose\n", 2, "key 'log_type': 'verbose' is not one of" },
    { "listener 1883\nlog_type error warning\n", 2, "key 'log_type': too many arguments" },
    { "listener 1883\nlog_dest topic\n", 2, "key 'log_dest': destination 'topic' is not supported by moat" },
    { "listener 1883\nlog_dest stderr\nlog_dest syslog\n", 3,
      "key 'log_dest': moat writes the log to one destination; already 'stderr' (" },
    { "listener 1883\nlog_dest file\n", 2, "key 'log_dest': missing PATH after 'file'" },
    { "listener 1883\nlog_dest stderr now\n", 2, "key 'log_dest': too many arguments" },
    { "listener 1883\nxdp_interface eth0\nxdp_interface eth0 native\n", 3, "key 'xdp_interface': interface 'eth0' given twice" },
    { "listener 1883\nxdp_interface averyveryverylongname\n", 2, "key 'xdp_interface': 'averyveryverylongname' is not a valid interface name" },
    { "listener 1883\nxdp_interface eth/0\n", 2, "key 'xdp_interface': 'eth/0' is not a valid interface name" },
    { "listener 1883\nxdp_interface eth0 offload\n", 2, "key 'xdp_interface': mode 'offload' is not auto, native or generic" },
    { "listener 1883\nxdp_on_exit linger\n", 2, "key 'xdp_on_exit': 'linger' is not detach or keep" },
    { "listener 1883\nxdp_block_mode some\n", 2, "key 'xdp_block_mode': 'some' is not all or ports" },
    { "listener 1883\nuser \x01root\n", 2, "control character (0x01) in line" },
    { "listener 1883\nuser r\xc3\n", 2, "key 'user': malformed UTF-8 in value" },
    { "listener 1883\nuser \xed\xa0\x80\n", 2, "key 'user': malformed UTF-8 in value" },
    { "listener 1883\ninclude_dir /nonexistent-moat-dir\n", 2, "key 'include_dir': cannot open directory" },
};

static void test_errors(void **state)
{
    struct fx *f = *state;
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        expect_error(f, errors[i].text, errors[i].line, errors[i].msg);
    assert_true(sizeof errors / sizeof errors[0] > 60);
}

static void test_nul_byte(void **state)
{
    struct fx *f = *state;
    static const char text[] = "listener 1883\nuser a\0b\n";
    assert_int_equal(config_load_buffer(&f->cfg, "mem.conf", text, sizeof text - 1, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "mem.conf:2: NUL byte in line"));
}

/* mosquitto.conf(5): certfile etc. belong to the listener they follow. */
static void test_tls_keys_belong_to_their_listener(void **state)
{
    struct fx *f = *state;
    int rc = load(f, "listener 1883\n"
                     "listener 8883\ncertfile /s.crt\nkeyfile /s.key\n"
                     "listener 8884\ncertfile /t.crt\nkeyfile /t.key\ncafile /ca\nrequire_certificate true\n");
    if (rc)
        fail_msg("%s", f->err);
    struct moat_config *c = &f->cfg;
    assert_int_equal(c->n_listeners, 3);
    assert_false(c->listeners[0].tls);
    assert_null(c->listeners[0].certfile);
    assert_string_equal(c->listeners[1].certfile, "/s.crt");
    assert_false(c->listeners[1].require_certificate);
    assert_string_equal(c->listeners[2].certfile, "/t.crt");
    assert_true(c->listeners[2].require_certificate);
}

/* Deprecated port/bind_address declare mosquitto's default listener; the
 * listener keys before the first 'listener' configure it. It comes last. */
static void test_default_listener(void **state)
{
    struct fx *f = *state;
    int rc = load(f, "port 8883\ncertfile /s.crt\nkeyfile /s.key\nbind_address 0.0.0.0\n"
                     "listener 1883 127.0.0.1\n");
    if (rc)
        fail_msg("%s", f->err);
    struct moat_config *c = &f->cfg;
    assert_int_equal(c->n_listeners, 2);
    assert_int_equal(c->listeners[0].port, 1883);
    assert_false(c->listeners[0].is_default);
    assert_int_equal(c->listeners[1].port, 8883);
    assert_true(c->listeners[1].is_default);
    assert_true(c->listeners[1].tls);
    assert_string_equal(c->listeners[1].bind_address, "0.0.0.0");
    assert_int_equal(c->listeners[1].line, 1);
    assert_false(c->local_only);
    assert_false(c->allow_anonymous);
    /* bind_address alone: port 1883 */
    assert_int_equal(load(f, "bind_address localhost\n"), 0);
    assert_int_equal(f->cfg.n_listeners, 1);
    assert_int_equal(f->cfg.listeners[0].port, 1883);
    assert_string_equal(f->cfg.listeners[0].bind_address, "localhost");
}

/* mosquitto.conf(5) per_listener_settings: security keys apply to the
 * current listener when true, to all listeners when false. */
static void test_per_listener_settings(void **state)
{
    struct fx *f = *state;
    int rc = load(f, "per_listener_settings true\n"
                     "listener 1883 127.0.0.1\nallow_anonymous true\n"
                     "listener 8883\ncertfile /c\nkeyfile /k\npassword_file /pw\nacl_file /acl\n"
                     "auto_id_prefix tls-\nallow_zero_length_clientid false\n");
    if (rc)
        fail_msg("%s", f->err);
    struct moat_config *c = &f->cfg;
    assert_true(c->per_listener_settings);
    struct listener_conf *a = &c->listeners[0], *b = &c->listeners[1];
    assert_true(config_listener_allow_anonymous(c, a));
    assert_false(config_listener_allow_anonymous(c, b));   /* unset: false */
    assert_null(config_listener_password_file(c, a));
    assert_string_equal(config_listener_password_file(c, b), "/pw");
    assert_null(config_listener_acl_file(c, a));
    assert_string_equal(config_listener_acl_file(c, b), "/acl");
    assert_string_equal(config_listener_auto_id_prefix(c, a), "auto-");
    assert_string_equal(config_listener_auto_id_prefix(c, b), "tls-");
    assert_true(config_listener_allow_zero_length_clientid(c, a));
    assert_false(config_listener_allow_zero_length_clientid(c, b));
    assert_null(c->password_file);

    rc = load(f, "listener 1883\nallow_anonymous true\nlistener 8883\npassword_file /pw\n");
    if (rc)
        fail_msg("%s", f->err);
    c = &f->cfg;
    assert_false(c->per_listener_settings);
    assert_true(config_listener_allow_anonymous(c, &c->listeners[1]));
    assert_string_equal(config_listener_password_file(c, &c->listeners[0]), "/pw");
}

/* mosquitto.conf(5) include_dir: the .conf files of DIR, case-insensitive order with
 * upper case first: 00 01 A a B b. Errors name the included file. */
static void test_include_dir(void **state)
{
    struct fx *f = *state;
    char d[160], p[224], text[256];
    snprintf(d, sizeof d, "%s/conf.d", f->dir);
    assert_int_equal(mkdir(d, 0700), 0);
    static const struct { const char *name; int port; } files[] = {
        { "b.conf", 6 }, { "A.conf", 3 }, { "01.conf", 2 }, { "a.conf", 4 }, { "B.conf", 5 }, { "00.conf", 1 },
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", d, files[i].name);
        snprintf(text, sizeof text, "# %s\nlistener %d\n", files[i].name, 1000 + files[i].port);
        write_file(p, text);
    }
    snprintf(p, sizeof p, "%s/ignored.txt", d);
    write_file(p, "garbage\n");
    snprintf(p, sizeof p, "%s/.conf", d);
    write_file(p, "garbage\n");
    snprintf(text, sizeof text, "listener 1000\ninclude_dir %s\nmax_connections 7\n", d);
    int rc = load(f, text);
    if (rc)
        fail_msg("%s", f->err);
    struct moat_config *c = &f->cfg;
    assert_int_equal(c->n_listeners, 7);
    for (int i = 0; i < 7; i++)
        assert_int_equal(c->listeners[i].port, 1000 + i);
    assert_int_equal(c->listeners[2].line, 2);
    assert_non_null(strstr(c->listeners[2].file, "/conf.d/01.conf"));
    /* after the include the main file goes on with its own listener */
    assert_int_equal(c->listeners[0].max_connections, 7);
    assert_int_equal(c->listeners[6].max_connections, -1);

    /* an error inside an included file: that file and line */
    snprintf(p, sizeof p, "%s/C.conf", d);
    write_file(p, "# bad\n\nmax_keepalive soon\n");
    rc = load(f, text);
    assert_int_equal(rc, -1);
    char want[512];
    snprintf(want, sizeof want, "%s:3: key 'max_keepalive': 'soon' is not a decimal number", p);
    if (!strstr(f->err, want))
        fail_msg("want %s got %s", want, f->err);

    /* include_dir only from the main file */
    snprintf(text, sizeof text, "include_dir %s\n", f->dir);
    write_file(p, text);
    snprintf(text, sizeof text, "listener 1000\ninclude_dir %s\n", d);
    rc = load(f, text);
    snprintf(want, sizeof want, "%s:1: key 'include_dir': only allowed in the main configuration file", p);
    if (rc != -1 || !strstr(f->err, want))
        fail_msg("want %s got %s", want, f->err);

    /* the directory must not contain the main file */
    unlink(p);
    snprintf(p, sizeof p, "%s/main.conf", d);
    snprintf(text, sizeof text, "listener 999\ninclude_dir %s\n", d);
    write_file(p, text);
    config_free(&f->cfg);
    rc = config_load_file(&f->cfg, p, f->err, sizeof f->err);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(f->err, "is the main configuration file"));
}

/* A mosquitto.conf as people write them parses unchanged. */
static void test_realistic_mosquitto_conf(void **state)
{
    struct fx *f = *state;
    const char *text =
        "# Place your local configuration in /etc/mosquitto/conf.d/\n"
        "#\n"
        "# A full description of the configuration file is at\n"
        "# /usr/share/doc/mosquitto/examples/mosquitto.conf.example\n"
        "\n"
        "pid_file /run/mosquitto/mosquitto.pid\n"
        "\n"
        "persistence true\n"
        "persistence_location /var/lib/mosquitto/\n"
        "\n"
        "log_dest file /var/log/mosquitto/mosquitto.log\n"
        "\n"
        "listener 1883\n"
        "\n"
        "listener 8883\n"
        "certfile /etc/mosquitto/certs/server.crt\n"
        "keyfile /etc/mosquitto/certs/server.key\n"
        "cafile /etc/mosquitto/ca_certificates/ca.crt\n"
        "require_certificate true\n"
        "\n"
        "allow_anonymous false\n"
        "password_file /etc/mosquitto/passwd\n"
        "acl_file /etc/mosquitto/acl\n"
        "max_queued_messages 5000\n";
    int rc = load(f, text);
    if (rc)
        fail_msg("%s", f->err);
    struct moat_config *c = &f->cfg;
    assert_int_equal(c->n_listeners, 2);
    assert_int_equal(c->listeners[0].port, 1883);
    assert_false(c->listeners[0].tls);
    assert_int_equal(c->listeners[1].port, 8883);
    assert_true(c->listeners[1].tls);
    assert_string_equal(c->listeners[1].cafile, "/etc/mosquitto/ca_certificates/ca.crt");
    assert_true(c->listeners[1].require_certificate);
    assert_false(c->allow_anonymous);
    assert_string_equal(c->password_file, "/etc/mosquitto/passwd");
    assert_string_equal(c->acl_file, "/etc/mosquitto/acl");
    assert_true(c->persistence);
    assert_string_equal(c->persistence_location, "/var/lib/mosquitto/");
    assert_string_equal(c->log_file, "/var/log/mosquitto/mosquitto.log");
    assert_int_equal(c->max_queued_messages, 5000);
    assert_string_equal(c->pid_file, "/run/mosquitto/mosquitto.pid");
}

static void test_missing_file(void **state)
{
    struct fx *f = *state;
    assert_int_equal(config_load_file(&f->cfg, "/nonexistent/moat.conf", f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "/nonexistent/moat.conf: cannot open"));
    /* NULL error buffer is allowed */
    assert_int_equal(config_load_buffer(&f->cfg, "x", "bogus 1\n", 8, NULL, 0), -1);
}

/* Every key of the table, and every refused mosquitto key, is documented in
 * docs/config.md, so the table and the docs cannot drift apart. */
static void test_docs_cover_every_key(void **state)
{
    (void)state;
    char path[512];
    const char *src = __FILE__;   /* .../tests/unit/test_config.c */
    const char *cut = strstr(src, "tests/unit/");
    snprintf(path, sizeof path, "%.*sdocs/config.md", cut ? (int)(cut - src) : 0, src);
    FILE *fp = fopen(path, "r");
    if (!fp)
        fail_msg("cannot open %s", path);
    static char doc[256 * 1024];
    size_t n = fread(doc, 1, sizeof doc - 1, fp);
    fclose(fp);
    doc[n] = '\0';
    size_t nk, nr;
    const struct cfg_key *k = cfg_keys(&nk);
    const struct cfg_refused *r = cfg_refused_keys(&nr);
    char want[128];
    for (size_t i = 0; i < nk; i++) {
        snprintf(want, sizeof want, "`%s`", k[i].name);
        if (!strstr(doc, want))
            fail_msg("docs/config.md does not document key %s", k[i].name);
    }
    for (size_t i = 0; i < nr; i++) {
        snprintf(want, sizeof want, "`%s`", r[i].name);
        if (!strstr(doc, want))
            fail_msg("docs/config.md does not list refused key %s", r[i].name);
    }
    /* and the embedded default text is reproduced verbatim */
    if (!strstr(doc, config_default_text))
        fail_msg("docs/config.md does not contain config_default_text verbatim");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_embedded_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_listener_is_local_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_durations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xdp_zero_rate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lexical, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_keys_belong_to_their_listener, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_listener, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_listener_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_include_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_realistic_mosquitto_conf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test(test_docs_cover_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
