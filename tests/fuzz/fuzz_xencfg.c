/* fuzz_xencfg.c - libFuzzer target: the Xen configuration a peer sends in
 * PREPARE, as the receiver reads it.
 *
 * The first byte chooses what the rest is:
 *   even: the blob itself, for xen_cfg_decode; one that decodes must encode
 *         and decode again to the same configuration;
 *   odd:  the libxl configuration (JSON) inside an otherwise valid blob,
 *         with a NIC and a disk, for xen_toolcfg_reduce (what the receiver
 *         writes for xl) and xen_toolcfg_to_xl (what it restarts the domain
 *         from).
 * Whatever decodes also goes through xen_devices_allowed.  A reduced
 * configuration must parse as JSON again and reduce to itself; an xl
 * configuration must be lines of "key = value" (or a comment) with
 * balanced double quotes, so that nothing a peer sends adds a key of its
 * own.  A broken rule aborts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/xen.h"
#include "hv/xen_toolcfg.h"

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_xencfg: contract broken at %s:%d: %s\n", __FILE__, \
		    __LINE__, #cond); \
		abort(); \
	} \
} while (0)

#define UUID "6270b78f-a357-43e0-87a4-96d0a31f7f7f"

static struct xen_cfg a, b;

static void
valid(struct xen_cfg *c)
{
	static const uint8_t uuid[16] = { 0x62, 0x70, 0xb7, 0x8f, 0xa3, 0x57, 0x43, 0xe0, 0x87,
		0xa4, 0x96, 0xd0, 0xa3, 0x1f, 0x7f, 0x7f };

	memset(c, 0, sizeof(*c));
	c->type = HV_TYPE_PVH;
	strcpy(c->name, "dev1");
	memcpy(c->uuid, uuid, 16);
	c->max_vcpus = 1;
	c->online[0] = 1;
	c->max_memkb = c->target_kb = c->static_max_kb = 98304;
	c->nvifs = 1;
	strcpy(c->vifs[0].mac, "00:16:3e:00:00:10");
	strcpy(c->vifs[0].bridge, "br0");
	strcpy(c->vifs[0].script, "vif-bridge");
	c->nvbds = 1;
	c->vbds[0].devid = 51728;
	strcpy(c->vbds[0].vdev, "xvdb");
	strcpy(c->vbds[0].params, "/dev/vda");
	strcpy(c->vbds[0].script, "block");
	c->vbds[0].writable = 1;
	c->vbds[0].discard = XEN_CFG_DISCARD_UNSET;
}

/* Lines of "key = value" or "# ...", quotes balanced on each. */
static void
check_xl(const char *t)
{
	while (*t != '\0') {
		const char *nl = strchr(t, '\n'), *p;
		unsigned q = 0;

		CHECK(nl != NULL);
		if (*t != '#') {
			for (p = t; p < nl && ((*p >= 'a' && *p <= 'z') || *p == '_'); p++)
				;
			CHECK(p > t && strncmp(p, " = ", 3) == 0);
		}
		for (p = t; p < nl; p++) {
			CHECK(*p != '\\' && (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f);
			q += *p == '"';
		}
		CHECK(q % 2 == 0);
		t = nl + 1;
	}
}

static void
toolcfg(const struct xen_cfg *c)
{
	char *out = NULL, *again = NULL, *text = NULL, why[256];
	struct xen_cfg *c2;
	struct xen_lifecycle lc;

	if (xen_toolcfg_reduce(c, UUID, "/lab/ /boot/", &out, why, sizeof(why)) != 0) {
		CHECK(out == NULL && memchr(why, '\0', sizeof(why)) != NULL);
		return;
	}
	CHECK(out != NULL && strlen(out) <= XEN_TOOLCFG_MAX);
	CHECK(xen_toolcfg_lifecycle(out, &lc) == 0);
	/* reducing the reduced changes nothing */
	c2 = &b;
	*c2 = *c;
	snprintf(c2->toolcfg, sizeof(c2->toolcfg), "%s", out);
	c2->toolcfg_len = (uint32_t)strlen(c2->toolcfg);
	CHECK(xen_toolcfg_reduce(c2, UUID, "/lab/ /boot/", &again, why, sizeof(why)) == 0);
	CHECK(strcmp(out, again) == 0);
	if (xen_toolcfg_to_xl(out, &text, why, sizeof(why)) == 0) {
		CHECK(text != NULL);
		check_xl(text);
	} else {
		CHECK(text == NULL);
	}
	free(out);
	free(again);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256];
	void *blob = NULL;
	size_t len = 0;

	if (size < 1)
		return 0;
	if (data[0] % 2 == 0) {
		if (xen_cfg_decode(data + 1, size - 1, &a, why, sizeof(why)) != 0)
			return 0;
		CHECK(xen_cfg_encode(&a, &blob, &len) == 0);
		CHECK(xen_cfg_decode(blob, len, &b, why, sizeof(why)) == 0);
		CHECK(memcmp(&a, &b, sizeof(a)) == 0);
		free(blob);
	} else {
		if (size - 1 > XEN_TOOLCFG_MAX || memchr(data + 1, '\0', size - 1) != NULL)
			return 0;
		valid(&a);
		memcpy(a.toolcfg, data + 1, size - 1);
		a.toolcfg[size - 1] = '\0';
		a.toolcfg_len = (uint32_t)(size - 1);
	}
	(void)xen_devices_allowed(&a, "br0", "/dev/ /srv/", "vif-bridge block", why, sizeof(why));
	if (a.toolcfg_len > 0)
		toolcfg(&a);
	return 0;
}
