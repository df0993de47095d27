/* Internals shared by the configuration parser (config.c), its key table
 * (config_keys.c) and its value parsers (config_values.c). Not for engines. */
#ifndef MOAT_CONFIG_INTERNAL_H
#define MOAT_CONFIG_INTERNAL_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_ARGS 8

/* Where a key applies; mirrors mosquitto.conf(5). */
enum cfg_scope {
    SC_GLOBAL,      /* applies to the whole broker, wherever it appears */
    SC_LISTENER,    /* the current listener (the default listener before the first 'listener') */
    SC_SECURITY,    /* global, or the current listener when per_listener_settings is true */
    SC_DEFAULT_LISTENER, /* port / bind_address: always the default listener */
    SC_DECLARE,     /* 'listener' itself: starts a new listener */
    SC_MAIN_FILE,   /* include_dir: main file only */
};

enum cfg_type {
    KT_BOOL,        /* true|false (and mosquitto's 1|0) */
    KT_UINT,        /* decimal, range [min,max], stored in a field of width size */
    KT_STRING,      /* rest of the line, trimmed; given twice in one scope = error */
    KT_CUSTOM,      /* fn does it */
};

struct cfg_parser;
struct cfg_key;
typedef int (*cfg_key_fn)(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv);

struct cfg_key {
    const char    *name;
    enum cfg_scope scope;
    enum cfg_type  type;
    int            min_args, max_args;  /* value tokens; max_args < 0: handler checks (uses value) */
    size_t         goff, gsize;         /* field in struct moat_config (SC_GLOBAL/SC_SECURITY) */
    size_t         loff, lsize;         /* field in struct listener_conf (SC_LISTENER/SC_SECURITY) */
    uint64_t       min, max;            /* KT_UINT */
    cfg_key_fn     fn;                  /* KT_CUSTOM */
    const char    *args;                /* for docs: "PORT [ADDRESS]" */
    const char    *def;                 /* for docs: default */
    const char    *help;                /* for docs: one sentence */
};

/* A mosquitto key moat refuses, with the feature it belongs to. */
struct cfg_refused {
    const char *name;     /* exact name, or a prefix ending in '*' */
    const char *feature;  /* "bridging", "websockets", ... */
};

const struct cfg_key     *cfg_key_find(const char *name);
const struct cfg_refused *cfg_refused_find(const char *name);
/* The tables, for docs/tests: returns the array, stores its length. */
const struct cfg_key     *cfg_keys(size_t *n);
const struct cfg_refused *cfg_refused_keys(size_t *n);

/* Parser state for one load; no globals. */
struct cfg_parser {
    struct moat_config *cfg;
    const char *file;          /* interned in cfg->file_names */
    int         line;
    const char *value;         /* the current line after the key, trimmed */
    char       *err;
    size_t      errlen;
    int         level;         /* 0 main file, 1 a file from include_dir */
    bool        have_main_id;  /* main file's dev/ino, include_dir must not contain it */
    uint64_t    main_dev, main_ino;

    long        cur;           /* index of current listener; -1: the default listener */
    struct listener_conf deflt;/* mosquitto's default listener, being configured */
    bool        deflt_used;    /* a listener key set something on it */
    const char *deflt_key; const char *deflt_file; int deflt_line; /* first such key */
    bool        port_set, bind_set;
    const char *port_file; int port_line;
    bool        any_listener;  /* a 'listener' line was seen */
    bool        security_seen; /* for "per_listener_settings must come first" */
    int         allow_anon;    /* -1 unset, else 0/1 (global) */
    bool        log_types_set;
    bool        log_dest_set, log_dest_none;
    const char *log_dest_file; int log_dest_line;
};

/* Formats "FILE:LINE: key 'NAME': " + fmt into p->err; returns -1. */
int cfg_error(struct cfg_parser *p, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Value parsers (config_values.c); each returns 0 or -1 with the error set. */
int cfg_parse_uint(struct cfg_parser *p, const char *key, const char *s,
                   uint64_t min, uint64_t max, uint64_t *out);
int cfg_parse_bool(struct cfg_parser *p, const char *key, const char *s, bool *out);
int cfg_parse_duration(struct cfg_parser *p, const char *key, const char *s, uint32_t *out);
int cfg_parse_port(struct cfg_parser *p, const char *key, const char *s, uint16_t *out);
int cfg_check_host(struct cfg_parser *p, const char *key, const char *s);
int cfg_check_string(struct cfg_parser *p, const char *key, const char *s);
int cfg_set_string(struct cfg_parser *p, const char *key, char **field, const char *s);
void cfg_store_uint(void *field, size_t size, uint64_t v);

/* The listener the current line configures (the default listener before the
 * first 'listener'); marks the default listener used. */
struct listener_conf *cfg_cur_listener(struct cfg_parser *p, const char *key);

/* Custom key handlers (config_keys_custom.c). */
int cfg_key_listener(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv);
int cfg_key_port(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv);
int cfg_key_bind_address(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv);
int cfg_key_socket_domain(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv);
int cfg_key_max_connections(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv);
int cfg_key_protocol(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv);
int cfg_key_tls_version(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv);
int cfg_key_allow_anonymous(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv);
int cfg_key_per_listener_settings(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv);
int cfg_key_max_inflight(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv);
int cfg_key_max_packet_size(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv);
int cfg_key_expiration(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv);
int cfg_key_log_type(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv);
int cfg_key_log_dest(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv);
int cfg_key_include_dir(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv);
int cfg_key_xdp_interface(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv);
int cfg_key_xdp_on_exit(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv);
int cfg_key_xdp_block_mode(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv);
int cfg_key_moat_detect(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv);
int cfg_key_moat_allow(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv);
int cfg_key_moat_sni_cert(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv);
int cfg_key_moat_tls_ktls(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv);

/* config.c: parse one buffer as file `name` at include level p->level. */
int cfg_parse_buffer(struct cfg_parser *p, const char *name, const char *buf, size_t len);
/* config.c: read a whole file (bounded) and parse it. */
int cfg_parse_file(struct cfg_parser *p, const char *path);
/* config.c: keep a copy of a file name for the config's lifetime. */
const char *cfg_intern_file(struct cfg_parser *p, const char *name);

#endif
