/* libFuzzer target for the configuration parser: the input is parsed as a
 * main configuration file through config_load_buffer. A successful parse
 * must give a consistent config (listeners bounded, strings set), and both
 * outcomes must leave nothing allocated (LeakSanitizer checks). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct moat_config cfg;
    char err[512];
    err[0] = 'x';
    if (config_load_buffer(&cfg, "fuzz.conf", (const char *)data, size, err, sizeof err) == 0) {
        if (cfg.n_listeners == 0 || cfg.n_listeners > CONFIG_MAX_LISTENERS || !cfg.listeners)
            abort();
        if (!cfg.log_dest || !cfg.auto_id_prefix || !cfg.bpf_pin_path || !cfg.control_socket)
            abort();
        if (cfg.n_xdp_interfaces > CONFIG_MAX_XDP_IFACES)
            abort();
        for (size_t i = 0; i < cfg.n_listeners; i++) {
            const struct listener_conf *l = &cfg.listeners[i];
            if (l->port == 0 || !l->file)
                abort();
            if (l->tls != (l->certfile && l->keyfile))
                abort();
            (void)config_listener_allow_anonymous(&cfg, l);
            (void)config_listener_password_file(&cfg, l);
        }
        config_free(&cfg);
    } else {
        /* every failure explains itself: "FILE:LINE: ..." or "FILE: ..."
         * (FILE may be one read through include_dir) */
        if (!memchr(err, '\0', sizeof err) || err[0] == 'x' || !strstr(err, ": "))
            abort();
    }
    return 0;
}
