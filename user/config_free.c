/* Releasing a parsed configuration. */
#include "config_internal.h"

#include <stdlib.h>
#include <string.h>

void cfg_listener_free(struct listener_conf *l)
{
    free(l->bind_address);
    free(l->certfile);
    free(l->keyfile);
    free(l->cafile);
    free(l->capath);
    free(l->crlfile);
    free(l->ciphers);
    free(l->ciphers_tls13);
    free(l->tls_version);
    free(l->password_file);
    free(l->acl_file);
    free(l->auto_id_prefix);
    for (size_t i = 0; i < l->n_sni; i++) {
        free(l->sni[i].name);
        free(l->sni[i].certfile);
        free(l->sni[i].keyfile);
    }
    free(l->sni);
    memset(l, 0, sizeof *l);
}

void config_free(struct moat_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n_listeners; i++)
        cfg_listener_free(&cfg->listeners[i]);
    free(cfg->listeners);
    for (size_t i = 0; i < cfg->n_xdp_interfaces; i++)
        free(cfg->xdp_interfaces[i].name);
    free(cfg->xdp_interfaces);
    for (size_t i = 0; i < cfg->n_file_names; i++)
        free(cfg->file_names[i]);
    free(cfg->file_names);
    free(cfg->source);
    free(cfg->password_file);
    free(cfg->acl_file);
    free(cfg->auto_id_prefix);
    free(cfg->persistence_location);
    free(cfg->persistence_file);
    free(cfg->persistence_key_file);
    free(cfg->log_dest);
    free(cfg->log_file);
    free(cfg->pid_file);
    free(cfg->user);
    free(cfg->bpf_pin_path);
    free(cfg->control_socket);
    free(cfg->allow);
    free(cfg->moat_block_state_file);
    free(cfg->moat_state_dir);
    memset(cfg, 0, sizeof *cfg);
}
