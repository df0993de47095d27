/* Effective per-listener security settings (per_listener_settings). */
#include "config.h"

bool config_listener_allow_anonymous(const struct moat_config *cfg, const struct listener_conf *l)
{
    if (cfg->per_listener_settings && l && l->allow_anonymous >= 0)
        return l->allow_anonymous != 0;
    return cfg->allow_anonymous;
}

bool config_listener_allow_zero_length_clientid(const struct moat_config *cfg, const struct listener_conf *l)
{
    if (cfg->per_listener_settings && l && l->allow_zero_length_clientid >= 0)
        return l->allow_zero_length_clientid != 0;
    return cfg->allow_zero_length_clientid;
}

const char *config_listener_auto_id_prefix(const struct moat_config *cfg, const struct listener_conf *l)
{
    if (cfg->per_listener_settings && l && l->auto_id_prefix)
        return l->auto_id_prefix;
    return cfg->auto_id_prefix;
}

/* With per_listener_settings true, mosquitto uses only the listener's own
 * files: a listener without password_file has none. */
const char *config_listener_password_file(const struct moat_config *cfg, const struct listener_conf *l)
{
    if (cfg->per_listener_settings)
        return l ? l->password_file : NULL;
    return cfg->password_file;
}

const char *config_listener_acl_file(const struct moat_config *cfg, const struct listener_conf *l)
{
    if (cfg->per_listener_settings)
        return l ? l->acl_file : NULL;
    return cfg->acl_file;
}
