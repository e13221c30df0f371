/* hv_xen_cfg.c - the Xen backend's configuration blob.
 *
 * Travels in PREPARE from the sender's get_config to the receiver's
 * check_incoming and restore.  Big-endian, versioned, and every field is
 * checked on decode: the receiver turns these values into hypercall
 * arguments and xenstore paths, so nothing is trusted.  No Xen headers
 * here, so the encoding is built and tested on every machine.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv_xen.h"
#include "xbuf.h"
#include "xerr.h"

/* Fixed part + strings + vifs: well under PROTO_CFG_MAX. */
#define XEN_CFG_BUF_MAX 4096

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
	size_t i, n = strlen(name);

	if (n == 0 || n >= XEN_CFG_IFNAME_LEN || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '.' && name[i] != '-' &&
		    name[i] != '_')
			return 0;
	return 1;
}

int
xen_cfg_encode(const struct xen_cfg *cfg, void **blob, size_t *len)
{
	struct xbuf b;
	uint8_t *buf;
	uint32_t i;

	*blob = NULL;
	*len = 0;
	if (cfg->max_vcpus == 0 || cfg->max_vcpus > XEN_CFG_MAX_VCPUS ||
	    cfg->nvifs > XEN_CFG_MAX_VIFS)
		return XMIG_ERR_TOO_LONG;
	if ((buf = malloc(XEN_CFG_BUF_MAX)) == NULL)
		return XMIG_ERR_NOMEM;
	xbuf_writer(&b, buf, XEN_CFG_BUF_MAX);
	xbuf_put_u32(&b, XEN_CFG_MAGIC);
	xbuf_put_u16(&b, XEN_CFG_VERSION);
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
	for (i = 0; i < cfg->nvifs; i++) {
		xbuf_put_u32(&b, cfg->vifs[i].devid);
		xbuf_put_str(&b, cfg->vifs[i].mac);
		xbuf_put_str(&b, cfg->vifs[i].bridge);
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

int
xen_cfg_decode(const void *blob, size_t len, struct xen_cfg *cfg, char *why, size_t whylen)
{
	struct xbuf b;
	uint32_t magic = 0, i;
	uint16_t version = 0;
	uint8_t nvifs = 0;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	xbuf_reader(&b, blob, len);
	xbuf_get_u32(&b, &magic);
	xbuf_get_u16(&b, &version);
	if (b.err == 0 && magic != XEN_CFG_MAGIC)
		return xen_cfg_bad(why, whylen, "not from a Xen host");
	if (b.err == 0 && version != XEN_CFG_VERSION) {
		snprintf(why, whylen, "Xen domain configuration version %u, this host reads %u",
		    version, XEN_CFG_VERSION);
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
	for (i = 0; i < cfg->nvifs && b.err == 0; i++) {
		xbuf_get_u32(&b, &cfg->vifs[i].devid);
		xbuf_get_str(&b, cfg->vifs[i].mac, sizeof(cfg->vifs[i].mac));
		xbuf_get_str(&b, cfg->vifs[i].bridge, sizeof(cfg->vifs[i].bridge));
		if (b.err == 0 && (!xen_cfg_mac_ok(cfg->vifs[i].mac) ||
		    !xen_cfg_ifname_ok(cfg->vifs[i].bridge) || cfg->vifs[i].devid > 0xffff))
			return xen_cfg_bad(why, whylen, "bad network interface");
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
