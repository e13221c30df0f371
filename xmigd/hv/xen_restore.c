/* hv/xen_restore.c - the receiving half of the Xen backend.
 *
 * Builds the domain as libxl would for a restore (create with the
 * source's type and limits, event channels for xenstore and the console,
 * the xenstore skeleton), then lets xc_domain_restore() read the
 * libxenguest stream from a pipe that a feeder thread fills with the RAW
 * records the engine receives.  The domain is left paused under its
 * temporary name; on any failure it is destroyed and its xenstore nodes
 * removed.
 */
#ifdef HAVE_XEN

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hv/xen_dm.h"
#include "hv/xen_int.h"
#include "log.h"
#include "util.h"
#include "xerr.h"

#define XEN_MAX_EVTCHN_PORT 1023	/* libxl's default event_channels */

struct xen_restore {
	struct hv_restore_io *io;
	uint32_t domid;
	int wfd;			/* owned by the feeder */
	int feed_err;
	bool feed_conn;		/* it stopped on the connection's error (or ABORT) */
	bool got_end;
	uint64_t end_us;		/* when the stream's end came (feeder) */
	uint64_t fed;
	/* The devices, set up by their own thread while the memory comes
	 * (when the sender waits for them: hv_restore_io.devices_awaited). */
	struct hv_xen *x;
	struct xs_handle *xsh;
	struct xen_xtl *xtl;
	const struct xen_cfg *cfg;
	int dev_err;
	atomic_bool dev_failed;		/* the feeder stops at the next record */
	char dev_why[512];
	struct xen_images *images;	/* its file images, for the unpause */
	/* An HVM guest's device model, after the memory stream. */
	struct msg_dm_physmap physmap;	/* count 0: none came */
	bool dm_state;			/* its state is in dm_file */
	char dm_file[XEN_PATH_MAX];
	/* Where a PAGES record would land: a Xen stream has none, and a
	 * hostile one must not write anywhere that matters. */
	uint8_t scratch[XC_PAGE_SIZE];
};

static void *
xen_scratch_dest(void *bctx, uint64_t pfn)
{
	(void)pfn;
	return ((struct xen_restore *)bctx)->scratch;
}

static int
xen_write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return XMIG_ERR_SYSTEM;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The device model's records (only an HVM guest's, the engine checked
 * them): the physmap kept, the state written where QEMU will read it. */
static int
xen_dm_record(struct xen_restore *s, const struct hv_rec *rec)
{
	int fd;

	if (s->cfg->type != HV_TYPE_HVM) {
		log_error("domain %u: a device model's state for a guest without one", s->domid);
		return XMIG_ERR_UNEXPECTED;
	}
	if (rec->type == HV_REC_DM_PHYSMAP) {
		memcpy(&s->physmap, rec->data, sizeof(s->physmap));
		return 0;
	}
	unlink(s->dm_file);
	if ((fd = open(s->dm_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 ||
	    xen_write_all(fd, rec->data, rec->len) != 0 || fsync(fd) != 0) {
		log_error("domain %u: cannot write its device model's state to %s: %s", s->domid,
		    s->dm_file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return XMIG_ERR_SYSTEM;
	}
	close(fd);
	s->dm_state = true;
	return 0;
}

/* Engine records in, libxenguest stream out.  Closing the pipe tells
 * xc_domain_restore the stream ended; a write that fails means it stopped
 * reading (it failed), which ends the feeder too. */
static void *
xen_feeder(void *arg)
{
	struct xen_restore *s = arg;
	struct hv_rec rec;
	int r = 0;

	while (r == 0) {
		if ((r = s->io->next(s->io, &rec)) != 0) {
			/* the sender's ABORT or the connection: the job's error says
			 * it; libxenguest would only add that its stream ended */
			s->feed_conn = true;
			atomic_store(&s->xtl->quiet, true);
			break;
		}
		if (atomic_load(&s->dev_failed)) {
			atomic_store(&s->xtl->quiet, true);
			r = s->dev_err;
			break;
		}
		if (rec.type == HV_REC_END) {
			s->got_end = true;
			s->end_us = now_us();
			break;
		}
		if (rec.type == HV_REC_ROUND_END)
			continue;
		if (rec.type == HV_REC_DM_PHYSMAP || rec.type == HV_REC_DM_STATE) {
			if ((r = xen_dm_record(s, &rec)) != 0)
				break;
			continue;
		}
		if (rec.type != HV_REC_RAW) {
			log_error("domain %u: a %s record in a Xen stream", s->domid,
			    rec.type == HV_REC_PAGES ? "page" : "context");
			r = XMIG_ERR_UNEXPECTED;
			break;
		}
		if ((r = xen_write_all(s->wfd, rec.data, rec.len)) != 0)
			r = XMIG_ERR_BACKEND;
		else
			s->fed += rec.len;
	}
	s->feed_err = r;
	close(s->wfd);
	s->wfd = -1;
	return NULL;
}

/* Disks and NICs while the memory comes: their hotplug scripts take
 * seconds (8-9 s for a vif and two vbds in the lab), which before
 * PREPARE_OK the sender would wait for.  The guest is untouched until the
 * sender hears DEVICES_READY, so a failure here still leaves it running at
 * the source: the feeder stops, the restore fails, the job aborts. */
static void *
xen_devices_thread(void *arg)
{
	struct xen_restore *s = arg;
	int r;

	r = xen_devices_add(s->xsh, s->domid, s->cfg, s->x->hotplug_timeout_s, &s->images,
	    s->dev_why, sizeof(s->dev_why));
	if (r != 0) {
		log_verbose("cannot set up the devices of domain %u: %s", s->domid, s->dev_why);
		s->dev_err = r;
		atomic_store(&s->dev_failed, true);
	} else {
		s->io->devices_ready(s->io);
	}
	return NULL;
}

/* The domain as libxl creates it for this type, with the source's limits. */
static int
xen_create(struct hv_xen *x, xc_interface *xch, const struct xen_cfg *cfg, uint32_t *domid)
{
	struct xen_domctl_createdomain dc;

	memset(&dc, 0, sizeof(dc));
	memcpy(dc.handle, cfg->uuid, 16);
	dc.flags = cfg->type == HV_TYPE_PV ? 0 : XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap;
	dc.max_vcpus = cfg->max_vcpus;
	dc.max_evtchn_port = XEN_MAX_EVTCHN_PORT;
	dc.max_grant_frames = -1;	/* the hypervisor's defaults */
	dc.max_maptrack_frames = -1;
	dc.grant_opts = XEN_DOMCTL_GRANT_version((x->caps & XEN_SYSCTL_PHYSCAP_gnttab_v2) ? 2 : 1);
	/* HVM: libxl's XEN_X86_EMU_ALL less vPCI, as the source had (checked) */
	dc.arch.emulation_flags = cfg->type == HV_TYPE_PV ? 0 : cfg->type == HV_TYPE_HVM ?
	    cfg->emulation_flags : XEN_X86_EMU_LAPIC;
	dc.arch.misc_flags = cfg->misc_flags & XEN_X86_MSR_RELAXED;
	*domid = 0;	/* Xen picks */
	if (xc_domain_create(xch, domid, &dc) != 0) {
		log_error("xc_domain_create failed: %s", strerror(errno));
		return XMIG_ERR_BACKEND;
	}
	return 0;
}

/* Limits and parameters the stream does not carry. */
static int
xen_setup(xc_interface *xch, uint32_t domid, const struct xen_cfg *cfg, const char *dmjson)
{
	const char *what;
	bool hpet, vpt_align;

	what = "xc_domain_max_vcpus";
	if (xc_domain_max_vcpus(xch, domid, cfg->max_vcpus) != 0)
		goto fail;
	what = "xc_domain_setmaxmem";
	if (xc_domain_setmaxmem(xch, domid, cfg->max_memkb) != 0)
		goto fail;
	if (cfg->type == HV_TYPE_PV) {
		what = "xc_domain_set_memmap_limit";
		if (xc_domain_set_memmap_limit(xch, domid, cfg->max_memkb) != 0)
			goto fail;
	} else {
		/* HVM: what libxl's hvm_set_conf_params sets from the configuration
		 * (MCA_CAP and VIRIDIAN come in the stream) */
		if (cfg->type == HV_TYPE_HVM) {
			what = "reading HPET and VPT_ALIGN from the configuration";
			if (xen_dm_hvm_params(dmjson, &hpet, &vpt_align) != 0)
				goto fail;
			what = "setting HVM_PARAM_HPET_ENABLED";
			if (xc_hvm_param_set(xch, domid, HVM_PARAM_HPET_ENABLED, hpet) != 0)
				goto fail;
			what = "setting HVM_PARAM_VPT_ALIGN";
			if (xc_hvm_param_set(xch, domid, HVM_PARAM_VPT_ALIGN, vpt_align) != 0)
				goto fail;
		}
		what = "setting the timer mode";
		if (xc_hvm_param_set(xch, domid, HVM_PARAM_TIMER_MODE, cfg->timer_mode) != 0)
			goto fail;
		what = "disabling altp2m";
		if (xc_hvm_param_set(xch, domid, HVM_PARAM_ALTP2M, 0) != 0)
			goto fail;
		/* The HAP pool libxl sizes as shadow_memkb. */
		what = "xc_set_paging_mempool_size";
		if (cfg->paging_pool > 0 &&
		    xc_set_paging_mempool_size(xch, domid, cfg->paging_pool) != 0)
			goto fail;
	}
	what = "xc_domain_set_tsc_info";
	if (xc_domain_set_tsc_info(xch, domid, cfg->tsc_mode, 0, 0, 0) != 0)
		goto fail;
	return 0;
fail:
	log_error("domain %u: %s failed: %s", domid, what, strerror(errno));
	return XMIG_ERR_BACKEND;
}

int
xen_restore(struct hv *hv, const struct hv_dom_spec *spec, struct hv_restore_io *io,
    uint32_t *domid)
{
	struct hv_xen *x = xen_priv(hv);
	struct restore_callbacks rcb;
	struct xen_restore *s;
	struct xen_handles h;
	struct xen_xs_dom xd;
	struct xen_cfg cfg;
	unsigned long store_mfn = 0, console_mfn = 0;
	uint32_t id = 0, store_domid, console_domid;
	int store_port, console_port, pfd[2] = { -1, -1 }, r, rc;
	bool created = false, feeding = false, devs = false;
	pthread_t feeder, devt;
	char why[512], *dmjson = NULL;
	uint64_t t0 = now_ms(), t_lib = 0, t_dev = 0, t_rr = 0, t_xs = 0;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return XMIG_ERR_NOMEM;
	s->io = io;
	s->wfd = -1;
	io->page_dest = xen_scratch_dest;
	io->bctx = s;
	memset(&h, 0, sizeof(h));
	if ((r = xen_check_cfg(x, spec, &cfg, why, sizeof(why))) != 0) {
		log_error("cannot build %s: %s", spec->name, why);
		strlcpy_x(io->why, why, sizeof(io->why));
		goto fail;
	}
	/* An HVM guest's QEMU is started from its reduced configuration. */
	if (cfg.type == HV_TYPE_HVM &&
	    (r = xen_toolcfg_reduced(x, &cfg, &dmjson, why, sizeof(why))) != 0) {
		log_error("cannot build %s: %s", spec->name, why);
		strlcpy_x(io->why, why, sizeof(io->why));
		goto fail;
	}
	if ((r = xen_handles_open(&h, why, sizeof(why))) != 0) {
		log_error("%s", why);
		goto fail;
	}
	if ((r = xen_create(x, h.xch, &cfg, &id)) != 0)
		goto fail;
	created = true;
	s->domid = id;
	s->cfg = &cfg;
	xen_qemu_state_path(s->dm_file, sizeof(s->dm_file), "resume", id);
	if ((r = xen_setup(h.xch, id, &cfg, dmjson)) != 0)
		goto fail;
	store_domid = xen_xs_backend_domid(h.xsh, "xenstored");
	console_domid = xen_xs_backend_domid(h.xsh, "xenconsoled");
	store_port = xc_evtchn_alloc_unbound(h.xch, id, store_domid);
	console_port = xc_evtchn_alloc_unbound(h.xch, id, console_domid);
	if (store_port < 0 || console_port < 0) {
		log_error("domain %u: cannot allocate the store/console event channels: %s", id,
		    strerror(errno));
		r = XMIG_ERR_BACKEND;
		goto fail;
	}
	memset(&xd, 0, sizeof(xd));
	xd.domid = id;
	xd.name = spec->name;
	xd.cfg = &cfg;
	xd.store_port = (uint32_t)store_port;
	xd.console_port = (uint32_t)console_port;
	xd.console_domid = console_domid;
	if ((r = xen_xs_skeleton(h.xsh, &xd)) != 0)
		goto fail;
	/* From here the watcher knows it as ours (reaped when it stops). */
	xen_xs_mark_ours(h.xsh, id);
	/* xl's configuration of it, for xl and for its reboots here. */
	if ((r = xen_toolcfg_install(x, id, &cfg, why, sizeof(why))) != 0) {
		strlcpy_x(io->why, why, sizeof(io->why));
		goto fail;
	}
	s->x = x;
	s->xsh = h.xsh;		/* the device thread's until it is joined */
	s->xtl = &h.xtl;
	s->cfg = &cfg;
	if (cfg.nvifs + cfg.nvbds == 0) {
		/* on record with no image: its unpause walks nothing */
		s->images = xen_images_new(id);
		io->devices_ready(io);
	} else if (io->devices_awaited) {
		if (pthread_create(&devt, NULL, xen_devices_thread, s) != 0) {
			log_error("cannot start the device set-up thread");
			r = XMIG_ERR_SYSTEM;
			goto fail;
		}
		devs = true;
	} else {
		/* An older sender suspends when its stream converges: the
		 * devices first, outside the downtime, and a failure refuses
		 * before the source is touched. */
		if ((r = xen_devices_add(h.xsh, id, &cfg, x->hotplug_timeout_s, &s->images, why,
		    sizeof(why))) != 0) {
			/* the job's error line says it, with this text */
			log_verbose("cannot set up the devices of %s (domain %u): %s", spec->name,
			    id, why);
			strlcpy_x(io->why, why, sizeof(io->why));
			goto fail;
		}
		io->devices_ready(io);
	}
	/* The domain exists: only now does the engine accept (PREPARE_OK). */
	if ((r = io->ready(io)) != 0)
		goto fail;

	if (pipe2(pfd, O_CLOEXEC) != 0) {
		log_error("pipe: %s", strerror(errno));
		r = XMIG_ERR_SYSTEM;
		goto fail;
	}
	(void)fcntl(pfd[1], F_SETPIPE_SZ, XEN_PIPE_SIZE);
	s->wfd = pfd[1];
	if (pthread_create(&feeder, NULL, xen_feeder, s) != 0) {
		log_error("cannot start the restore feeder thread");
		close(pfd[1]);
		s->wfd = -1;
		r = XMIG_ERR_SYSTEM;
		goto fail;
	}
	feeding = true;
	/* Must not be NULL: libxenguest calls static_data_done through it.
	 * Zeroed is right for a stream from the same Xen version. */
	memset(&rcb, 0, sizeof(rcb));
	rc = xc_domain_restore(h.xch, pfd[0], id, (unsigned)store_port, &store_mfn, store_domid,
	    (unsigned)console_port, &console_mfn, console_domid, XC_STREAM_PLAIN, &rcb, -1);
	close(pfd[0]);
	pfd[0] = -1;
	pthread_join(feeder, NULL);
	feeding = false;
	t_lib = now_us();
	if (devs) {
		uint64_t tw = now_ms();

		pthread_join(devt, NULL);
		devs = false;
		if (s->dev_err == 0 && now_ms() - tw > 10)
			log_info("domain %u: the stream ended %llu ms before its devices were up",
			    id, (unsigned long long)(now_ms() - tw));
	}
	if (s->dev_err != 0) {
		r = s->dev_err;
		strlcpy_x(io->why, s->dev_why, sizeof(io->why));
		goto fail;
	}
	if (rc != 0 || s->feed_err != 0 || !s->got_end) {
		r = s->feed_err != 0 ? s->feed_err : XMIG_ERR_BACKEND;
		log_msg(s->feed_conn ? LOG_LVL_VERBOSE : LOG_LVL_ERROR,
		    "restore of %s (domain %u) failed after %llu ms, %llu bytes: %s",
		    spec->name, id, (unsigned long long)(now_ms() - t0),
		    (unsigned long long)s->fed, rc != 0 ? xen_last_error(&h.xtl) :
		    s->feed_err != 0 ? xmig_strerror(s->feed_err) : "stream did not end");
		goto fail;
	}
	t_dev = now_us();
	xd.store_mfn = store_mfn;
	xd.console_mfn = console_mfn;
	if ((r = xen_xs_connect(h.xsh, &xd)) != 0)
		goto fail;
	t_rr = now_us();
	if (!xs_introduce_domain(h.xsh, id, store_mfn, (unsigned)store_port)) {
		log_error("xs_introduce_domain(%u) failed: %s", id, strerror(errno));
		r = XMIG_ERR_BACKEND;
		goto fail;
	}
	t_xs = now_us();
	/* HVM: its QEMU, as libxl starts it after the stream: the physmap
	 * first (QEMU reads it while loading), then -incoming the state. */
	if (cfg.type == HV_TYPE_HVM) {
		char name[HV_NAME_MAX];

		if (!s->dm_state) {
			snprintf(io->why, sizeof(io->why), "the device model's state of %s did not "
			    "come", cfg.name);
			log_error("cannot build %s: %s", spec->name, io->why);
			r = XMIG_ERR_UNEXPECTED;
			goto fail;
		}
		strlcpy_x(name, cfg.name, sizeof(name));
		if ((r = xen_qemu_physmap_write(h.xsh, id, &s->physmap)) != 0 ||
		    (r = xen_qemu_start(h.xsh, id, dmjson, name, s->dm_file, why,
		    sizeof(why))) != 0) {
			if (r != XMIG_ERR_BACKEND || why[0] != '\0') {
				log_error("cannot build %s: %s", spec->name, why);
				strlcpy_x(io->why, why, sizeof(io->why));
			}
			goto fail;
		}
		unlink(s->dm_file);
	}
	/* what the sender's phases call restore, step by step */
	if (s->end_us != 0 && t_lib >= s->end_us)
		log_verbose("domain %u: after the stream's end: libxenguest %llu us, devices "
		    "%llu us, xenstore %llu us (ring references %llu us, introduce %llu us), "
		    "device model %llu us", id,
		    (unsigned long long)(t_lib - s->end_us), (unsigned long long)(t_dev - t_lib),
		    (unsigned long long)(t_xs - t_dev), (unsigned long long)(t_rr - t_dev),
		    (unsigned long long)(t_xs - t_rr), (unsigned long long)(now_us() - t_xs));
	log_info("built %s as domain %u (%s) in %llu ms from %llu bytes; paused", spec->name, id,
	    hv_type_name((enum hv_dom_type)cfg.type), (unsigned long long)(now_ms() - t0),
	    (unsigned long long)s->fed);
	*domid = id;
	xen_handles_close(&h);
	if (s->images != NULL)
		xen_images_keep(x, s->images);
	io->page_dest = NULL;	/* s goes; the engine reads no more records */
	io->bctx = NULL;
	free(s);
	free(dmjson);
	return 0;
fail:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (feeding)
		pthread_join(feeder, NULL);
	if (devs)
		pthread_join(devt, NULL);
	if (created) {
		xen_qemu_kill(h.xsh, id);	/* also the state file */
		xen_devices_remove(id, x->hotplug_timeout_s);
		if (xc_domain_destroy(h.xch, id) != 0 && errno != ESRCH)
			log_error("cannot destroy the partial domain %u: %s", id, strerror(errno));
		xen_xs_cleanup(h.xsh, id);
		xen_toolcfg_forget(x, cfg.uuid);
	}
	xen_handles_close(&h);
	/* The engine may still call next() after we return: keep page_dest
	 * away from freed memory. */
	io->page_dest = NULL;
	io->bctx = NULL;
	free(s->images);
	free(s);
	free(dmjson);
	return r;
}

#else
typedef int hv_xen_restore_unused;	/* ISO C wants a declaration */
#endif
