/* hv/xen_cfg.c - the Xen backend's configuration blob.
 *
 * Travels in PREPARE from the sender's get_config to the receiver's
 * check_incoming and restore.  Big-endian, versioned, and every field is
 * checked on decode: the receiver turns these values into hypercall
 * arguments and xenstore paths, so nothing is trusted.  No Xen headers
 * here, so the encoding is built and tested on every machine.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/xen.h"
#include "xbuf.h"
#include "xerr.h"

/* Fixed part + strings + devices: well under PROTO_CFG_MAX. */
#define XEN_CFG_BUF_MAX (XEN_TOOLCFG_MAX + 20480)

int
xen_cfg_mac_ok(const char *mac)
{
	unsigned i;

	if (strlen(mac) != 17)
		return 0;
	for (i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (mac[i] != ':')
				return 0;
		} else if (!isxdigit((unsigned char)mac[i])) {
			return 0;
		}
	}
	return 1;
}

int
xen_cfg_ifname_ok(const char *name)
{
	return dp_ifname_ok(name, strlen(name));
}

/* Every character of s is in set (s may be empty). */
static bool
xen_cfg_chars(const char *s, const char *set)
{
	return s[strspn(s, set)] == '\0';
}

static void
xen_cfg_put_vif(struct xbuf *b, const struct xen_cfg_vif *v, unsigned version)
{
	xbuf_put_u32(b, v->devid);
	xbuf_put_str(b, v->mac);
	xbuf_put_str(b, v->bridge);
	if (version < 2)
		return;
	xbuf_put_str(b, v->script);
	xbuf_put_str(b, v->vifname);
	xbuf_put_str(b, v->ip);
	xbuf_put_str(b, v->rate);
	xbuf_put_u32(b, v->mtu);
	xbuf_put_u8(b, v->trusted);
}

static void
xen_cfg_put_vbd(struct xbuf *b, const struct xen_cfg_vbd *v)
{
	xbuf_put_u32(b, v->devid);
	xbuf_put_str(b, v->vdev);
	xbuf_put_str(b, v->params);
	xbuf_put_str(b, v->script);
	xbuf_put_u8(b, v->writable);
	xbuf_put_u8(b, v->removable);
	xbuf_put_u8(b, v->trusted);
	xbuf_put_u8(b, v->discard);
	xbuf_put_u8(b, v->direct_io_safe);
}

int
xen_cfg_encode(const struct xen_cfg *cfg, void **blob, size_t *len)
{
	struct xbuf b;
	uint8_t *buf;
	uint32_t i;
	unsigned version;

	*blob = NULL;
	*len = 0;
	if (cfg->max_vcpus == 0 || cfg->max_vcpus > XEN_CFG_MAX_VCPUS ||
	    cfg->nvifs > XEN_CFG_MAX_VIFS || cfg->nvbds > XEN_CFG_MAX_VBDS)
		return XMIG_ERR_TOO_LONG;
	if (cfg->toolcfg_len > XEN_TOOLCFG_MAX)
		return XMIG_ERR_TOO_LONG;
	if ((buf = malloc(XEN_CFG_BUF_MAX)) == NULL)
		return XMIG_ERR_NOMEM;
	/* Each in the lowest version that holds it, which older xmigds read. */
	version = cfg->toolcfg_len > 0 ? XEN_CFG_VERSION :
	    cfg->nvifs > 0 || cfg->nvbds > 0 ? XEN_CFG_VERSION_DEVICES : XEN_CFG_VERSION_MIN;
	xbuf_writer(&b, buf, XEN_CFG_BUF_MAX);
	xbuf_put_u32(&b, XEN_CFG_MAGIC);
	xbuf_put_u16(&b, (uint16_t)version);
	xbuf_put_u8(&b, cfg->type);
	xbuf_put_str(&b, cfg->name);
	xbuf_put_bytes(&b, cfg->uuid, 16);
	xbuf_put_u32(&b, cfg->max_vcpus);
	xbuf_put_bytes(&b, cfg->online, (cfg->max_vcpus + 7) / 8);
	xbuf_put_u64(&b, cfg->max_memkb);
	xbuf_put_u64(&b, cfg->target_kb);
	xbuf_put_u64(&b, cfg->static_max_kb);
	xbuf_put_u32(&b, cfg->cdf_flags);
	xbuf_put_u32(&b, cfg->emulation_flags);
	xbuf_put_u32(&b, cfg->misc_flags);
	xbuf_put_u64(&b, cfg->paging_pool);
	xbuf_put_u64(&b, cfg->timer_mode);
	xbuf_put_u32(&b, cfg->tsc_mode);
	xbuf_put_u64(&b, cfg->console_limit);
	xbuf_put_u8(&b, (uint8_t)cfg->nvifs);
	for (i = 0; i < cfg->nvifs; i++)
		xen_cfg_put_vif(&b, &cfg->vifs[i], version);
	if (version >= 2) {
		xbuf_put_u8(&b, (uint8_t)cfg->nvbds);
		for (i = 0; i < cfg->nvbds; i++)
			xen_cfg_put_vbd(&b, &cfg->vbds[i]);
	}
	if (version >= 3) {
		xbuf_put_u32(&b, cfg->toolcfg_len);
		xbuf_put_bytes(&b, cfg->toolcfg, cfg->toolcfg_len);
	}
	if (b.err) {
		free(buf);
		return b.err;
	}
	*blob = buf;
	*len = b.len;
	return 0;
}

static int
xen_cfg_bad(char *why, size_t whylen, const char *what)
{
	snprintf(why, whylen, "malformed Xen domain configuration: %s", what);
	return XMIG_ERR_INVALID;
}

/* vif i, checked for shape (the receiver's lists are checked later, by
 * xen_devices_allowed) and for a devid not used twice. */
static int
xen_cfg_get_vif(struct xbuf *b, struct xen_cfg *cfg, uint32_t i, unsigned version,
    char *why, size_t whylen)
{
	struct xen_cfg_vif *v = &cfg->vifs[i];
	uint32_t j;

	xbuf_get_u32(b, &v->devid);
	xbuf_get_str(b, v->mac, sizeof(v->mac));
	xbuf_get_str(b, v->bridge, sizeof(v->bridge));
	if (version >= 2) {
		xbuf_get_str(b, v->script, sizeof(v->script));
		xbuf_get_str(b, v->vifname, sizeof(v->vifname));
		xbuf_get_str(b, v->ip, sizeof(v->ip));
		xbuf_get_str(b, v->rate, sizeof(v->rate));
		xbuf_get_u32(b, &v->mtu);
		xbuf_get_u8(b, &v->trusted);
	} else {	/* what version 1 implied */
		strcpy(v->script, "vif-bridge");
		v->trusted = 1;
	}
	if (b->err != 0)
		return 0;	/* reported as truncated */
	if (!xen_cfg_mac_ok(v->mac) || !xen_cfg_ifname_ok(v->bridge) || v->devid > 0xffff ||
	    !dp_script_ok(v->script, strlen(v->script)) ||
	    (v->vifname[0] != '\0' && !xen_cfg_ifname_ok(v->vifname)) ||
	    !xen_cfg_chars(v->ip, "0123456789abcdefABCDEF.:/ ") ||
	    !xen_cfg_chars(v->rate, "0123456789,") || v->mtu > 65535 ||
	    (v->mtu != 0 && v->mtu < 68) || v->trusted > 1)
		return xen_cfg_bad(why, whylen, "bad network interface");
	for (j = 0; j < i; j++)
		if (cfg->vifs[j].devid == v->devid)
			return xen_cfg_bad(why, whylen, "two network interfaces with one devid");
	return 0;
}

static int
xen_cfg_get_vbd(struct xbuf *b, struct xen_cfg *cfg, uint32_t i, char *why, size_t whylen)
{
	struct xen_cfg_vbd *v = &cfg->vbds[i];
	uint32_t j;

	xbuf_get_u32(b, &v->devid);
	xbuf_get_str(b, v->vdev, sizeof(v->vdev));
	xbuf_get_str(b, v->params, sizeof(v->params));
	xbuf_get_str(b, v->script, sizeof(v->script));
	xbuf_get_u8(b, &v->writable);
	xbuf_get_u8(b, &v->removable);
	xbuf_get_u8(b, &v->trusted);
	xbuf_get_u8(b, &v->discard);
	xbuf_get_u8(b, &v->direct_io_safe);
	if (b->err != 0)
		return 0;
	if (v->devid == 0 || v->devid > 0x7fffffff || v->vdev[0] == '\0' ||
	    !xen_cfg_chars(v->vdev, "abcdefghijklmnopqrstuvwxyz0123456789") ||
	    !dp_params_ok(v->params, strlen(v->params)) ||
	    !dp_script_ok(v->script, strlen(v->script)) || v->writable > 1 ||
	    v->removable > 1 || v->trusted > 1 || v->discard > XEN_CFG_DISCARD_UNSET ||
	    v->direct_io_safe > 1)
		return xen_cfg_bad(why, whylen, "bad disk");
	for (j = 0; j < i; j++)
		if (cfg->vbds[j].devid == v->devid || strcmp(cfg->vbds[j].vdev, v->vdev) == 0)
			return xen_cfg_bad(why, whylen, "two disks with one device number or name");
	return 0;
}

int
xen_cfg_decode(const void *blob, size_t len, struct xen_cfg *cfg, char *why, size_t whylen)
{
	struct xbuf b;
	uint32_t magic = 0, i;
	uint16_t version = 0;
	uint8_t nvifs = 0, nvbds = 0;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	xbuf_reader(&b, blob, len);
	xbuf_get_u32(&b, &magic);
	xbuf_get_u16(&b, &version);
	if (b.err == 0 && magic != XEN_CFG_MAGIC)
		return xen_cfg_bad(why, whylen, "not from a Xen host");
	if (b.err == 0 && (version < XEN_CFG_VERSION_MIN || version > XEN_CFG_VERSION)) {
		snprintf(why, whylen, "Xen domain configuration version %u, this host reads "
		    "%u to %u", version, XEN_CFG_VERSION_MIN, XEN_CFG_VERSION);
		return XMIG_ERR_VERSION;
	}
	xbuf_get_u8(&b, &cfg->type);
	xbuf_get_str(&b, cfg->name, sizeof(cfg->name));
	xbuf_get_bytes(&b, cfg->uuid, 16);
	xbuf_get_u32(&b, &cfg->max_vcpus);
	if (b.err == 0 && (cfg->max_vcpus == 0 || cfg->max_vcpus > XEN_CFG_MAX_VCPUS))
		return xen_cfg_bad(why, whylen, "vCPU count out of range");
	xbuf_get_bytes(&b, cfg->online, (cfg->max_vcpus + 7) / 8);
	xbuf_get_u64(&b, &cfg->max_memkb);
	xbuf_get_u64(&b, &cfg->target_kb);
	xbuf_get_u64(&b, &cfg->static_max_kb);
	xbuf_get_u32(&b, &cfg->cdf_flags);
	xbuf_get_u32(&b, &cfg->emulation_flags);
	xbuf_get_u32(&b, &cfg->misc_flags);
	xbuf_get_u64(&b, &cfg->paging_pool);
	xbuf_get_u64(&b, &cfg->timer_mode);
	xbuf_get_u32(&b, &cfg->tsc_mode);
	xbuf_get_u64(&b, &cfg->console_limit);
	xbuf_get_u8(&b, &nvifs);
	if (b.err == 0 && nvifs > XEN_CFG_MAX_VIFS)
		return xen_cfg_bad(why, whylen, "too many network interfaces");
	cfg->nvifs = nvifs;
	for (i = 0; i < cfg->nvifs && b.err == 0; i++)
		if ((r = xen_cfg_get_vif(&b, cfg, i, version, why, whylen)) != 0)
			return r;
	if (version >= 2) {
		xbuf_get_u8(&b, &nvbds);
		if (b.err == 0 && nvbds > XEN_CFG_MAX_VBDS)
			return xen_cfg_bad(why, whylen, "too many disks");
		cfg->nvbds = nvbds;
		for (i = 0; i < cfg->nvbds && b.err == 0; i++)
			if ((r = xen_cfg_get_vbd(&b, cfg, i, why, whylen)) != 0)
				return r;
	}
	if (version >= 3) {
		uint32_t n = 0;

		xbuf_get_u32(&b, &n);
		if (b.err == 0 && n > XEN_TOOLCFG_MAX)
			return xen_cfg_bad(why, whylen, "toolstack configuration too long");
		xbuf_get_bytes(&b, cfg->toolcfg, n);
		cfg->toolcfg[b.err == 0 ? n : 0] = '\0';
		if (b.err == 0 && strlen(cfg->toolcfg) != n)
			return xen_cfg_bad(why, whylen, "NUL byte in the toolstack configuration");
		cfg->toolcfg_len = b.err == 0 ? n : 0;
	}
	if ((r = xbuf_get_end(&b)) != 0)
		return r == XMIG_ERR_TRAILING ? xen_cfg_bad(why, whylen, "trailing bytes")
		    : xen_cfg_bad(why, whylen, "truncated");
	if (cfg->type != HV_TYPE_PV && cfg->type != HV_TYPE_PVH && cfg->type != HV_TYPE_HVM)
		return xen_cfg_bad(why, whylen, "unknown domain type");
	if (cfg->target_kb == 0 || cfg->max_memkb == 0 || cfg->max_memkb > XEN_CFG_MAX_KB ||
	    cfg->static_max_kb > XEN_CFG_MAX_KB || cfg->target_kb > cfg->max_memkb)
		return xen_cfg_bad(why, whylen, "memory sizes out of range");
	if (cfg->paging_pool > cfg->max_memkb * 1024)
		return xen_cfg_bad(why, whylen, "paging pool larger than the domain");
	/* No vCPU online is a guest that cannot run. */
	for (i = 0; i < cfg->max_vcpus; i++)
		if (cfg->online[i / 8] & (1u << (i % 8)))
			break;
	if (i == cfg->max_vcpus)
		return xen_cfg_bad(why, whylen, "no vCPU online");
	for (i = cfg->max_vcpus; i < XEN_CFG_MAX_VCPUS; i++)
		if (cfg->online[i / 8] & (1u << (i % 8)))
			return xen_cfg_bad(why, whylen, "vCPU online beyond the maximum");
	return 0;
}
