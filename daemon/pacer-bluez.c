/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-bluez.h"

#include <errno.h>
#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pacer-gatt.h"
#include "pacer-uuid.h"

#define BLUEZ_NAME "org.bluez"
#define ADAPTER_IFACE "org.bluez.Adapter1"
#define DEVICE_IFACE "org.bluez.Device1"
#define CHAR_IFACE "org.bluez.GattCharacteristic1"
#define BATTERY_IFACE "org.bluez.Battery1"
#define CONNECT_TIMEOUT_MS 30000
#define CALL_TIMEOUT_MS 10000
#define RESOLVE_RETRIES 10 /* x 1 s: characteristics late after ServicesResolved */
#define VALUE_MAX 512

typedef enum {
	SLOT_IDLE,       /* looking for a device */
	SLOT_CONNECTING, /* Connect() in flight */
	SLOT_RESOLVING,  /* waiting for ServicesResolved and the characteristics */
	SLOT_STREAMING,
	SLOT_BACKOFF, /* waiting to reconnect */
} SlotState;

typedef struct {
	PacerBluez *bz;
	PacerBluezSlotConfig want;
	gboolean bridged; /* not the runner's: its kind is known once its services are */
	gboolean kind_known;
	PacerSensorKind kind;
	uint16_t service;
	uint16_t measurement;
	uint16_t feature; /* read once after connecting: location or feature */
	SlotState state;
	char *device_path;
	char address[18];
	char *name;
	int battery;
	int rssi;
	GCancellable *op;
	GDBusProxy *notify_char; /* with StartNotify: the characteristic whose Value we follow */
	int fd;
	guint fd_source;
	guint timer;
	guint backoff_s;
	guint resolve_tries;
	gboolean reported;
} Slot;

struct _PacerBluez {
	PacerBluezConfig cfg;
	PacerBluezCallbacks cb;
	gpointer user_data;
	GCancellable *cancellable;
	GDBusObjectManager *manager;
	char *adapter_path;
	gboolean discovering;
	gboolean discovery_pending;
	guint pick_timer;
	gboolean pick_ready;
	GPtrArray *slots; /* of Slot: the runner's three (by kind), then the bridged ones */
};

#define SLOT(bz, i) ((Slot *)g_ptr_array_index((bz)->slots, (i)))

static void evaluate(PacerBluez *bz);
static void slot_lost(Slot *s, const char *why);

/* ---- object helpers ---- */

static GDBusProxy *get_iface(PacerBluez *bz, const char *path, const char *iface)
{
	if (!bz->manager || !path)
		return NULL;
	return G_DBUS_PROXY(g_dbus_object_manager_get_interface(bz->manager, path, iface));
}

static gboolean prop_bool(GDBusProxy *p, const char *name)
{
	g_autoptr(GVariant) v = p ? g_dbus_proxy_get_cached_property(p, name) : NULL;

	return v && g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN) && g_variant_get_boolean(v);
}

static char *prop_string(GDBusProxy *p, const char *name)
{
	g_autoptr(GVariant) v = p ? g_dbus_proxy_get_cached_property(p, name) : NULL;

	if (!v || !g_variant_is_of_type(v, G_VARIANT_TYPE_STRING))
		return NULL;
	return g_variant_dup_string(v, NULL);
}

static int prop_rssi(GDBusProxy *p)
{
	g_autoptr(GVariant) v = p ? g_dbus_proxy_get_cached_property(p, "RSSI") : NULL;

	return v && g_variant_is_of_type(v, G_VARIANT_TYPE_INT16) ? g_variant_get_int16(v) : 0;
}

/* Whether a UUID string is the 16-bit SIG UUID `u16` (any case, any form). */
static gboolean uuid_is(const char *s, uint16_t u16)
{
	PacerUuid uuid;
	uint16_t v;

	return s && pacer_uuid_parse(s, &uuid) == 0 && pacer_uuid_to_u16(&uuid, &v) == 0 &&
	       v == u16;
}

static gboolean device_offers(GDBusProxy *dev, uint16_t service)
{
	g_autoptr(GVariant) v = g_dbus_proxy_get_cached_property(dev, "UUIDs");
	g_autofree const char **uuids = NULL;

	if (!v || !g_variant_is_of_type(v, G_VARIANT_TYPE_STRING_ARRAY))
		return FALSE;
	uuids = g_variant_get_strv(v, NULL);
	for (size_t i = 0; uuids[i]; i++) {
		if (uuid_is(uuids[i], service))
			return TRUE;
	}
	return FALSE;
}

static gboolean on_our_adapter(PacerBluez *bz, GDBusProxy *dev)
{
	g_autoptr(GVariant) v = g_dbus_proxy_get_cached_property(dev, "Adapter");

	return bz->adapter_path && v && g_variant_is_of_type(v, G_VARIANT_TYPE_OBJECT_PATH) &&
	       g_strcmp0(g_variant_get_string(v, NULL), bz->adapter_path) == 0;
}

/* The characteristic with `uuid16` under a device, or NULL. */
static GDBusProxy *find_char(PacerBluez *bz, const char *device_path, uint16_t uuid16)
{
	g_autolist(GDBusObject) objects = g_dbus_object_manager_get_objects(bz->manager);
	g_autofree char *prefix = g_strconcat(device_path, "/", NULL);

	for (GList *l = objects; l; l = l->next) {
		const char *path = g_dbus_object_get_object_path(l->data);
		g_autoptr(GDBusInterface) iface = NULL;
		g_autofree char *uuid = NULL;

		if (!g_str_has_prefix(path, prefix))
			continue;
		iface = g_dbus_object_get_interface(l->data, CHAR_IFACE);
		if (!iface)
			continue;
		uuid = prop_string(G_DBUS_PROXY(iface), "UUID");
		if (uuid_is(uuid, uuid16))
			return G_DBUS_PROXY(g_steal_pointer(&iface));
	}
	return NULL;
}

static gboolean slot_uses_device(PacerBluez *bz, const char *path)
{
	for (guint i = 0; i < bz->slots->len; i++) {
		if (g_strcmp0(SLOT(bz, i)->device_path, path) == 0)
			return TRUE;
	}
	return FALSE;
}

/* What a slot's kind measures: its service, notifications and the characteristic read once. */
static void slot_set_kind(Slot *s, PacerSensorKind kind)
{
	static const uint16_t services[] = {PACER_UUID_HEART_RATE_SERVICE, PACER_UUID_RSC_SERVICE,
					    PACER_UUID_FITNESS_MACHINE_SERVICE};
	static const uint16_t measurements[] = {PACER_UUID_HEART_RATE_MEASUREMENT,
						PACER_UUID_RSC_MEASUREMENT, PACER_UUID_TREADMILL_DATA};
	static const uint16_t features[] = {PACER_UUID_BODY_SENSOR_LOCATION, PACER_UUID_RSC_FEATURE,
					    PACER_UUID_FITNESS_MACHINE_FEATURE};

	s->kind = kind;
	s->kind_known = TRUE;
	s->service = services[kind];
	s->measurement = measurements[kind];
	s->feature = features[kind];
}

/* For messages: "heart_rate", or "bridged heart_rate", or "bridged sensor". */
static const char *slot_label(const Slot *s)
{
	static const char *const bridged[] = {"bridged heart_rate", "bridged footpod",
					      "bridged treadmill"};

	if (!s->bridged)
		return pacer_sensor_kind_to_string(s->kind);
	return s->kind_known ? bridged[s->kind] : "bridged sensor";
}

/* ---- values and teardown ---- */

static void deliver(Slot *s, uint16_t uuid16, const uint8_t *value, size_t len)
{
	if (s->bz->cb.value)
		s->bz->cb.value(s->address, s->kind, s->bridged, uuid16, value, len,
				s->bz->user_data);
}

static void deliver_variant(Slot *s, uint16_t uuid16, GVariant *bytes)
{
	gsize len = 0;
	const uint8_t *data;

	if (!bytes || !g_variant_is_of_type(bytes, G_VARIANT_TYPE_BYTESTRING))
		return;
	data = g_variant_get_fixed_array(bytes, &len, 1);
	deliver(s, uuid16, data, len);
}

static void set_battery(Slot *s, int pct)
{
	uint8_t b = (uint8_t)pct;

	s->battery = pct;
	deliver(s, PACER_UUID_BATTERY_LEVEL, &b, 1);
}

/* Drops everything of a connection; the slot keeps its device. */
static void slot_teardown(Slot *s)
{
	g_cancellable_cancel(s->op);
	g_clear_object(&s->op);
	g_clear_handle_id(&s->fd_source, g_source_remove);
	g_clear_handle_id(&s->timer, g_source_remove);
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	g_clear_object(&s->notify_char);
	if (s->reported && s->bz->cb.state)
		s->bz->cb.state(s->address, s->kind, s->bridged, FALSE, s->bz->user_data);
	s->reported = FALSE;
}

/* Back to looking for a device, forgetting the one we had. */
static void slot_forget(Slot *s)
{
	slot_teardown(s);
	g_clear_pointer(&s->device_path, g_free);
	g_clear_pointer(&s->name, g_free);
	s->state = SLOT_IDLE;
	s->battery = -1;
	s->rssi = 0;
}

static GCancellable *slot_new_op(Slot *s)
{
	g_cancellable_cancel(s->op);
	g_clear_object(&s->op);
	s->op = g_cancellable_new();
	return s->op;
}

/* ---- notifications through an acquired socket ---- */

static gboolean on_notify_fd(int fd, GIOCondition cond, gpointer user_data)
{
	Slot *s = user_data;
	uint8_t buf[VALUE_MAX];

	if (cond & G_IO_IN) {
		for (;;) {
			ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

			if (n > 0) {
				deliver(s, s->measurement, buf, (size_t)n);
				continue;
			}
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
				return G_SOURCE_CONTINUE;
			if (n == 0 && !(cond & (G_IO_HUP | G_IO_ERR))) {
				/* a packet socket reads an empty notification as 0, too:
				 * a malformed value; a closed socket shows as HUP next time */
				deliver(s, s->measurement, buf, 0);
				return G_SOURCE_CONTINUE;
			}
			break; /* the other end closed, or an error */
		}
	}
	s->fd_source = 0;
	slot_lost(s, "notification socket closed");
	return G_SOURCE_REMOVE;
}

static void streaming(Slot *s)
{
	s->state = SLOT_STREAMING;
	s->backoff_s = 0;
	s->reported = TRUE;
	g_message("%s '%s' (%s): streaming", slot_label(s), s->name ? s->name : "", s->address);
	if (s->bz->cb.state)
		s->bz->cb.state(s->address, s->kind, s->bridged, TRUE, s->bz->user_data);
}

static void start_notify_done(GObject *src, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) ret = g_dbus_proxy_call_finish(G_DBUS_PROXY(src), res, &error);
	Slot *s = user_data;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	if (!ret) {
		g_warning("%s: StartNotify failed: %s", s->address, error->message);
		slot_lost(s, "cannot subscribe");
		return;
	}
	streaming(s);
}

static void acquire_done(GObject *src, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GUnixFDList) fds = NULL;
	g_autoptr(GVariant) ret = NULL;
	Slot *s;
	gint32 handle = -1;
	guint16 mtu = 0;

	ret = g_dbus_proxy_call_with_unix_fd_list_finish(G_DBUS_PROXY(src), &fds, res, &error);
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	s = user_data;
	if (ret)
		g_variant_get(ret, "(hq)", &handle, &mtu);
	if (ret && fds && handle >= 0 && handle < g_unix_fd_list_get_length(fds))
		s->fd = g_unix_fd_list_get(fds, handle, &error);
	if (s->fd < 0) {
		/* some devices mis-advertise AcquireNotify: fall back to StartNotify */
		g_debug("%s: AcquireNotify failed (%s), using StartNotify", s->address,
			error ? error->message : "no descriptor");
		s->notify_char = G_DBUS_PROXY(g_object_ref(src));
		g_dbus_proxy_call(s->notify_char, "StartNotify", NULL, G_DBUS_CALL_FLAGS_NONE,
				  CALL_TIMEOUT_MS, s->op, start_notify_done, s);
		return;
	}
	g_unix_set_fd_nonblocking(s->fd, TRUE, NULL);
	s->fd_source = g_unix_fd_add(s->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_notify_fd, s);
	g_debug("%s: notifications through an acquired socket, MTU %u", s->address, mtu);
	streaming(s);
}

/* A read characteristic (location, feature, battery level): its value goes the same way. */
typedef struct {
	Slot *slot;
	uint16_t uuid16;
} ReadCtx;

static void read_done(GObject *src, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) ret = g_dbus_proxy_call_finish(G_DBUS_PROXY(src), res, &error);
	g_autofree ReadCtx *ctx = user_data;
	g_autoptr(GVariant) bytes = NULL;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	if (!ret) {
		g_debug("%s: reading %04x failed, ignored: %s", ctx->slot->address, ctx->uuid16,
			error->message);
		return;
	}
	bytes = g_variant_get_child_value(ret, 0);
	if (ctx->uuid16 == PACER_UUID_BATTERY_LEVEL && g_variant_n_children(bytes) > 0) {
		gsize n = 0;
		const uint8_t *b = g_variant_get_fixed_array(bytes, &n, 1);

		ctx->slot->battery = b[0];
	}
	deliver_variant(ctx->slot, ctx->uuid16, bytes);
}

static void read_char(Slot *s, uint16_t uuid16)
{
	g_autoptr(GDBusProxy) ch = find_char(s->bz, s->device_path, uuid16);
	ReadCtx *ctx;

	if (!ch)
		return;
	ctx = g_new0(ReadCtx, 1);
	ctx->slot = s;
	ctx->uuid16 = uuid16;
	g_dbus_proxy_call(ch, "ReadValue", g_variant_new_parsed("(@a{sv} {},)"),
			  G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, s->op, read_done, ctx);
}

static void read_battery(Slot *s)
{
	g_autoptr(GDBusProxy) battery = get_iface(s->bz, s->device_path, BATTERY_IFACE);
	g_autoptr(GVariant) pct = NULL;

	if (battery)
		pct = g_dbus_proxy_get_cached_property(battery, "Percentage");
	if (pct && g_variant_is_of_type(pct, G_VARIANT_TYPE_BYTE))
		set_battery(s, g_variant_get_byte(pct));
	else
		read_char(s, PACER_UUID_BATTERY_LEVEL);
}

/* ---- connecting ---- */

static gboolean on_resolve_retry(gpointer user_data);

/* Services resolved: find the measurement characteristic by UUID and subscribe. */
static void subscribe(Slot *s)
{
	g_autoptr(GDBusProxy) ch = NULL;

	if (s->bridged && !s->kind_known) {
		/* the first of HR, RSC and treadmill measurements the sensor offers */
		for (int k = PACER_SENSOR_HEART_RATE; k <= PACER_SENSOR_TREADMILL && !ch; k++) {
			slot_set_kind(s, (PacerSensorKind)k);
			ch = find_char(s->bz, s->device_path, s->measurement);
		}
		s->kind_known = ch != NULL;
	} else {
		ch = find_char(s->bz, s->device_path, s->measurement);
	}

	if (!ch) {
		/* ServicesResolved can come before the objects are exported: wait a little */
		if (++s->resolve_tries > RESOLVE_RETRIES) {
			slot_lost(s, "the sensor offers no measurement characteristic");
			return;
		}
		g_clear_handle_id(&s->timer, g_source_remove);
		s->timer = g_timeout_add_seconds(1, on_resolve_retry, s);
		return;
	}
	read_char(s, s->feature);
	read_battery(s);
	g_dbus_proxy_call_with_unix_fd_list(ch, "AcquireNotify", g_variant_new_parsed("(@a{sv} {},)"),
					    G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, s->op,
					    acquire_done, s);
}

static gboolean on_resolve_retry(gpointer user_data)
{
	Slot *s = user_data;

	s->timer = 0;
	if (s->state == SLOT_RESOLVING)
		subscribe(s);
	return G_SOURCE_REMOVE;
}

static void check_resolved(Slot *s)
{
	g_autoptr(GDBusProxy) dev = get_iface(s->bz, s->device_path, DEVICE_IFACE);

	if (s->state != SLOT_RESOLVING || !dev)
		return;
	if (prop_bool(dev, "Connected") && prop_bool(dev, "ServicesResolved") && !s->fd_source &&
	    !s->notify_char && !s->timer) {
		s->resolve_tries = 0;
		subscribe(s);
	}
}

static void connect_done(GObject *src, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) ret = g_dbus_proxy_call_finish(G_DBUS_PROXY(src), res, &error);
	Slot *s;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	s = user_data;
	if (!ret) {
		g_message("%s: connecting failed, will retry: %s", s->address, error->message);
		slot_lost(s, NULL);
		return;
	}
	s->state = SLOT_RESOLVING;
	check_resolved(s);
	evaluate(s->bz); /* discovery may resume for the other slots */
}

static void slot_connect(Slot *s, GDBusProxy *dev)
{
	g_autofree char *address = prop_string(dev, "Address");

	g_free(s->device_path);
	s->device_path = g_strdup(g_dbus_proxy_get_object_path(dev));
	g_strlcpy(s->address, address ? address : "", sizeof(s->address));
	for (char *p = s->address; *p; p++)
		*p = g_ascii_toupper(*p);
	g_free(s->name);
	s->name = prop_string(dev, "Alias");
	s->rssi = prop_rssi(dev);
	s->resolve_tries = 0;
	slot_new_op(s);
	if (prop_bool(dev, "Connected")) {
		/* still connected from before (bluetoothd keeps links when clients die) */
		s->state = SLOT_RESOLVING;
		check_resolved(s);
		return;
	}
	s->state = SLOT_CONNECTING;
	g_message("%s: connecting to '%s' (%s)", slot_label(s), s->name ? s->name : "",
		  s->address);
	g_dbus_proxy_call(dev, "Connect", NULL, G_DBUS_CALL_FLAGS_NONE, CONNECT_TIMEOUT_MS, s->op,
			  connect_done, s);
}

static gboolean on_backoff(gpointer user_data)
{
	Slot *s = user_data;
	g_autoptr(GDBusProxy) dev = get_iface(s->bz, s->device_path, DEVICE_IFACE);

	s->timer = 0;
	if (dev && on_our_adapter(s->bz, dev)) {
		slot_connect(s, dev);
	} else {
		/* the device object went away (a temporary device): look for it again */
		s->state = SLOT_IDLE;
		evaluate(s->bz);
	}
	return G_SOURCE_REMOVE;
}

/* The link is gone (or never came): report it, then try again after a backoff. */
static void slot_lost(Slot *s, const char *why)
{
	guint delay;

	if (s->state == SLOT_BACKOFF)
		return; /* told twice (the socket and Connected=false) */
	if (why)
		g_message("%s '%s' (%s): %s", slot_label(s), s->name ? s->name : "", s->address,
			  why);
	slot_teardown(s);
	s->state = SLOT_BACKOFF;
	delay = s->backoff_s == 0 ? 1 : MIN(s->backoff_s * 2, s->bz->cfg.backoff_max_s);
	s->backoff_s = delay;
	/* the first retry comes within a second (not g_timeout_add_seconds: it rounds up) */
	s->timer = g_timeout_add(delay * 1000, on_backoff, s);
	evaluate(s->bz);
}

/* ---- discovery and choosing devices ---- */

static void discovery_done(GObject *src, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) ret = g_dbus_proxy_call_finish(G_DBUS_PROXY(src), res, &error);
	PacerBluez *bz;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	bz = user_data;
	bz->discovery_pending = FALSE;
	if (!ret)
		g_debug("discovery call failed, ignored: %s", error->message);
	evaluate(bz);
}

static void set_discovery(PacerBluez *bz, gboolean on)
{
	g_autoptr(GDBusProxy) adapter = get_iface(bz, bz->adapter_path, ADAPTER_IFACE);
	GVariantBuilder filter;

	if (!adapter || bz->discovery_pending || bz->discovering == on)
		return;
	bz->discovering = on;
	bz->discovery_pending = TRUE;
	if (!on) {
		g_dbus_proxy_call(adapter, "StopDiscovery", NULL, G_DBUS_CALL_FLAGS_NONE,
				  CALL_TIMEOUT_MS, bz->cancellable, discovery_done, bz);
		return;
	}
	g_variant_builder_init(&filter, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&filter, "{sv}", "Transport", g_variant_new_string("le"));
	g_variant_builder_add(&filter, "{sv}", "UUIDs",
			      g_variant_new_parsed("['0000180d-0000-1000-8000-00805f9b34fb', "
						   "'00001814-0000-1000-8000-00805f9b34fb', "
						   "'00001826-0000-1000-8000-00805f9b34fb']"));
	g_dbus_proxy_call(adapter, "SetDiscoveryFilter", g_variant_new("(a{sv})", &filter),
			  G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, bz->cancellable, NULL, NULL);
	/* calls on one proxy are delivered in order: the filter is set first */
	g_dbus_proxy_call(adapter, "StartDiscovery", NULL, G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS,
			  bz->cancellable, discovery_done, bz);
	g_message("discovering heart-rate, RSC and fitness machine sensors");
}

/* The device a slot should use now: its configured address, or the strongest candidate. */
static GDBusProxy *choose_device(PacerBluez *bz, Slot *s, gboolean *ret_candidates)
{
	const PacerBluezSlotConfig *sc = &s->want;
	g_autolist(GDBusObject) objects = g_dbus_object_manager_get_objects(bz->manager);
	GDBusProxy *best = NULL;
	int best_rssi = G_MININT;

	*ret_candidates = FALSE;
	for (GList *l = objects; l; l = l->next) {
		g_autoptr(GDBusInterface) iface = g_dbus_object_get_interface(l->data, DEVICE_IFACE);
		GDBusProxy *dev = iface ? G_DBUS_PROXY(iface) : NULL;
		g_autofree char *address = dev ? prop_string(dev, "Address") : NULL;
		int rssi;

		if (!dev || !on_our_adapter(bz, dev) || slot_uses_device(bz, g_dbus_proxy_get_object_path(dev)))
			continue;
		if (!sc->auto_pick) {
			if (address && g_ascii_strcasecmp(address, sc->address) == 0) {
				g_clear_object(&best);
				return G_DBUS_PROXY(g_steal_pointer(&iface));
			}
			continue;
		}
		if (!device_offers(dev, s->service))
			continue;
		*ret_candidates = TRUE;
		rssi = prop_rssi(dev) != 0 ? prop_rssi(dev) : -127;
		if (rssi > best_rssi) {
			g_clear_object(&best);
			best = G_DBUS_PROXY(g_steal_pointer(&iface));
			best_rssi = rssi;
		}
	}
	return best;
}

static gboolean on_pick_window(gpointer user_data)
{
	PacerBluez *bz = user_data;

	bz->pick_timer = 0;
	bz->pick_ready = TRUE;
	evaluate(bz);
	return G_SOURCE_REMOVE;
}

static void choose_adapter(PacerBluez *bz)
{
	g_autolist(GDBusObject) objects = g_dbus_object_manager_get_objects(bz->manager);

	for (GList *l = objects; l; l = l->next) {
		const char *path = g_dbus_object_get_object_path(l->data);
		g_autoptr(GDBusInterface) iface = g_dbus_object_get_interface(l->data, ADAPTER_IFACE);
		g_autofree char *base = g_path_get_basename(path);

		if (!iface)
			continue;
		if (bz->cfg.adapter ? g_strcmp0(base, bz->cfg.adapter) != 0
				    : !prop_bool(G_DBUS_PROXY(iface), "Powered"))
			continue;
		bz->adapter_path = g_strdup(path);
		g_message("using adapter %s", path);
		return;
	}
}

static void evaluate(PacerBluez *bz)
{
	gboolean want_discovery = FALSE, connecting = FALSE;

	if (!bz->manager)
		return;
	if (!bz->adapter_path)
		choose_adapter(bz);
	if (!bz->adapter_path)
		return;
	for (guint i = 0; i < bz->slots->len; i++) {
		Slot *s = SLOT(bz, i);
		const PacerBluezSlotConfig *sc = &s->want;
		g_autoptr(GDBusProxy) dev = NULL;
		gboolean candidates = FALSE;

		if (!sc->enabled || s->state != SLOT_IDLE) {
			connecting |= s->state == SLOT_CONNECTING;
			continue;
		}
		dev = choose_device(bz, s, &candidates);
		if (dev && (!sc->auto_pick || bz->pick_ready)) {
			slot_connect(s, dev);
			connecting |= s->state == SLOT_CONNECTING;
			continue;
		}
		want_discovery = TRUE;
		if (candidates && !bz->pick_timer && !bz->pick_ready)
			bz->pick_timer = g_timeout_add(bz->cfg.pick_window_ms, on_pick_window, bz);
	}
	/* some controllers cannot scan and connect at once */
	set_discovery(bz, want_discovery && !connecting);
}

/* ---- following bluetoothd ---- */

static Slot *slot_for_device(PacerBluez *bz, const char *path)
{
	for (guint i = 0; i < bz->slots->len; i++) {
		Slot *s = SLOT(bz, i);

		if (s->device_path && g_strcmp0(s->device_path, path) == 0)
			return s;
	}
	return NULL;
}

static Slot *slot_for_char(PacerBluez *bz, const char *path)
{
	for (guint i = 0; i < bz->slots->len; i++) {
		GDBusProxy *ch = SLOT(bz, i)->notify_char;

		if (ch && g_strcmp0(g_dbus_proxy_get_object_path(ch), path) == 0)
			return SLOT(bz, i);
	}
	return NULL;
}

static void device_changed(PacerBluez *bz, GDBusProxy *dev, GVariant *changed)
{
	Slot *s = slot_for_device(bz, g_dbus_proxy_get_object_path(dev));
	gboolean flag;
	gint16 rssi;

	if (!s) {
		evaluate(bz); /* a new RSSI or UUIDs: a candidate may have appeared */
		return;
	}
	if (g_variant_lookup(changed, "RSSI", "n", &rssi))
		s->rssi = rssi;
	if (g_variant_lookup(changed, "Connected", "b", &flag) && !flag &&
	    (s->state == SLOT_STREAMING || s->state == SLOT_RESOLVING)) {
		slot_lost(s, "link lost");
		return;
	}
	if (g_variant_lookup(changed, "ServicesResolved", "b", &flag) && flag)
		check_resolved(s);
}

static void on_properties_changed(GDBusObjectManagerClient *manager, GDBusObjectProxy *object,
				  GDBusProxy *iface, GVariant *changed, const char *const *invalidated,
				  gpointer user_data)
{
	PacerBluez *bz = user_data;
	const char *name = g_dbus_proxy_get_interface_name(iface);
	const char *path = g_dbus_proxy_get_object_path(iface);
	Slot *s;

	if (g_strcmp0(name, DEVICE_IFACE) == 0) {
		device_changed(bz, iface, changed);
	} else if (g_strcmp0(name, CHAR_IFACE) == 0 && (s = slot_for_char(bz, path))) {
		g_autoptr(GVariant) value = g_variant_lookup_value(changed, "Value", G_VARIANT_TYPE_BYTESTRING);

		if (value && s->state == SLOT_STREAMING)
			deliver_variant(s, s->measurement, value);
	} else if (g_strcmp0(name, BATTERY_IFACE) == 0 && (s = slot_for_device(bz, path))) {
		guint8 pct;

		if (g_variant_lookup(changed, "Percentage", "y", &pct) && s->state == SLOT_STREAMING)
			set_battery(s, pct);
	} else if (g_strcmp0(name, ADAPTER_IFACE) == 0) {
		evaluate(bz);
	}
}

static void on_object_added(GDBusObjectManager *manager, GDBusObject *object, gpointer user_data)
{
	evaluate(user_data);
}

static void on_interface_added(GDBusObjectManager *manager, GDBusObject *object,
			       GDBusInterface *iface, gpointer user_data)
{
	PacerBluez *bz = user_data;
	const char *path = g_dbus_object_get_object_path(object);
	Slot *battery_slot = slot_for_device(bz, path);

	/* bluetoothd adds Battery1 after ServicesResolved: read it when it comes */
	if (battery_slot && battery_slot->state == SLOT_STREAMING &&
	    g_strcmp0(g_dbus_proxy_get_interface_name(G_DBUS_PROXY(iface)), BATTERY_IFACE) == 0) {
		g_autoptr(GVariant) pct = g_dbus_proxy_get_cached_property(G_DBUS_PROXY(iface), "Percentage");

		if (pct && g_variant_is_of_type(pct, G_VARIANT_TYPE_BYTE))
			set_battery(battery_slot, g_variant_get_byte(pct));
	}
	/* the characteristics may come after ServicesResolved */
	for (guint i = 0; i < bz->slots->len; i++) {
		Slot *s = SLOT(bz, i);

		if (s->device_path && g_str_has_prefix(path, s->device_path) && s->state == SLOT_RESOLVING &&
		    s->timer) {
			g_clear_handle_id(&s->timer, g_source_remove);
			subscribe(s);
		}
	}
	evaluate(bz);
}

static void on_object_removed(GDBusObjectManager *manager, GDBusObject *object,
			      gpointer user_data)
{
	PacerBluez *bz = user_data;
	const char *path = g_dbus_object_get_object_path(object);
	Slot *s = slot_for_device(bz, path);

	if (s) {
		gboolean streaming = s->state == SLOT_STREAMING;

		slot_forget(s);
		if (streaming)
			g_message("%s: device removed", slot_label(s));
	}
	if (g_strcmp0(path, bz->adapter_path) == 0) {
		g_message("adapter %s removed", path);
		for (guint i = 0; i < bz->slots->len; i++)
			slot_forget(SLOT(bz, i));
		g_clear_pointer(&bz->adapter_path, g_free);
		bz->discovering = FALSE;
	}
	evaluate(bz);
}

static void on_name_owner(GObject *manager, GParamSpec *pspec, gpointer user_data)
{
	PacerBluez *bz = user_data;
	g_autofree char *owner = g_dbus_object_manager_client_get_name_owner(G_DBUS_OBJECT_MANAGER_CLIENT(manager));

	if (owner) {
		g_message("bluetoothd is running");
		evaluate(bz);
		return;
	}
	g_message("bluetoothd went away: dropping every sensor until it is back");
	for (guint i = 0; i < bz->slots->len; i++)
		slot_forget(SLOT(bz, i));
	g_clear_pointer(&bz->adapter_path, g_free);
	g_clear_handle_id(&bz->pick_timer, g_source_remove);
	bz->pick_ready = FALSE;
	bz->discovering = FALSE;
	bz->discovery_pending = FALSE;
}

static void manager_ready(GObject *src, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	GDBusObjectManager *manager = g_dbus_object_manager_client_new_for_bus_finish(res, &error);
	PacerBluez *bz;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	bz = user_data;
	if (!manager) {
		g_warning("cannot watch bluetoothd on the system bus, running without sensors: %s",
			  error->message);
		return;
	}
	bz->manager = manager;
	g_signal_connect(manager, "object-added", G_CALLBACK(on_object_added), bz);
	g_signal_connect(manager, "object-removed", G_CALLBACK(on_object_removed), bz);
	g_signal_connect(manager, "interface-added", G_CALLBACK(on_interface_added), bz);
	g_signal_connect(manager, "interface-proxy-properties-changed",
			 G_CALLBACK(on_properties_changed), bz);
	g_signal_connect(manager, "notify::name-owner", G_CALLBACK(on_name_owner), bz);
	on_name_owner(G_OBJECT(manager), NULL, bz);
}

/* ---- life cycle ---- */

static Slot *slot_new(PacerBluez *bz, const PacerBluezSlotConfig *want, gboolean bridged,
		      PacerSensorKind kind)
{
	Slot *s = g_new0(Slot, 1);

	s->bz = bz;
	s->want = *want;
	s->bridged = bridged;
	slot_set_kind(s, kind);
	s->kind_known = !bridged;
	s->fd = -1;
	s->battery = -1;
	return s;
}

static void slot_free(gpointer data)
{
	Slot *s = data;

	slot_forget(s);
	g_clear_object(&s->op);
	g_free(s);
}

/* The bridged slots of a configuration, after the runner's three. */
static void add_bridged(PacerBluez *bz, const PacerBluezConfig *config)
{
	for (guint i = 0; i < config->n_bridge; i++) {
		PacerBluezSlotConfig want = {.enabled = TRUE};

		g_strlcpy(want.address, config->bridge[i], sizeof(want.address));
		g_ptr_array_add(bz->slots, slot_new(bz, &want, TRUE, PACER_SENSOR_HEART_RATE));
	}
}

PacerBluez *pacer_bluez_new(const PacerBluezConfig *config, const PacerBluezCallbacks *callbacks,
			    gpointer user_data)
{
	PacerBluez *bz = g_new0(PacerBluez, 1);

	bz->cfg = *config;
	bz->cfg.adapter = g_strdup(config->adapter);
	if (bz->cfg.pick_window_ms == 0)
		bz->cfg.pick_window_ms = 1500;
	if (bz->cfg.backoff_max_s == 0)
		bz->cfg.backoff_max_s = 30;
	bz->cb = *callbacks;
	bz->user_data = user_data;
	bz->cancellable = g_cancellable_new();
	bz->slots = g_ptr_array_new_with_free_func(slot_free);
	for (guint i = 0; i < PACER_BLUEZ_N_SLOTS; i++)
		g_ptr_array_add(bz->slots, slot_new(bz, &config->slots[i], FALSE, (PacerSensorKind)i));
	add_bridged(bz, config);
	return bz;
}

void pacer_bluez_start(PacerBluez *bz)
{
	g_dbus_object_manager_client_new_for_bus(G_BUS_TYPE_SYSTEM,
						 G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START,
						 BLUEZ_NAME, "/", NULL, NULL, NULL, bz->cancellable,
						 manager_ready, bz);
}

/* Lets a slot's sensor go (bluetoothd keeps links when a client goes away). */
static void slot_release(Slot *s)
{
	g_autoptr(GDBusProxy) dev = get_iface(s->bz, s->device_path, DEVICE_IFACE);

	if (dev && s->state != SLOT_IDLE)
		g_dbus_proxy_call(dev, "Disconnect", NULL, G_DBUS_CALL_FLAGS_NONE, 1000, NULL, NULL,
				  NULL);
}

void pacer_bluez_free(PacerBluez *bz)
{
	if (!bz)
		return;
	bz->cb.state = NULL; /* the owner is going away: no more callbacks */
	bz->cb.value = NULL;
	for (guint i = 0; i < bz->slots->len; i++)
		slot_release(SLOT(bz, i));
	g_ptr_array_unref(bz->slots);
	g_cancellable_cancel(bz->cancellable);
	g_clear_object(&bz->cancellable);
	g_clear_handle_id(&bz->pick_timer, g_source_remove);
	if (bz->manager) {
		g_signal_handlers_disconnect_by_data(bz->manager, bz);
		g_clear_object(&bz->manager);
	}
	g_free(bz->adapter_path);
	g_free(bz->cfg.adapter);
	g_free(bz);
}

guint pacer_bluez_get_sensors(PacerBluez *bz, PacerBluezSensor *ret, guint max)
{
	guint n = 0;

	for (guint i = 0; i < bz->slots->len && n < max; i++) {
		const Slot *s = SLOT(bz, i);

		if (!s->device_path || !s->kind_known)
			continue; /* a bridged sensor is listed once its kind is known */
		ret[n] = (PacerBluezSensor){.kind = s->kind, .bridged = s->bridged, .name = s->name,
					    .connected = s->state == SLOT_STREAMING,
					    .battery = s->battery, .rssi = s->rssi};
		g_strlcpy(ret[n].address, s->address, sizeof(ret[n].address));
		n++;
	}
	return n;
}

static gboolean same_bridge(const PacerBluezConfig *a, const PacerBluezConfig *b)
{
	if (a->n_bridge != b->n_bridge)
		return FALSE;
	for (guint i = 0; i < a->n_bridge; i++) {
		if (g_ascii_strcasecmp(a->bridge[i], b->bridge[i]) != 0)
			return FALSE;
	}
	return TRUE;
}

void pacer_bluez_reconfigure(PacerBluez *bz, const PacerBluezConfig *config)
{
	for (guint i = 0; i < PACER_BLUEZ_N_SLOTS; i++) {
		const PacerBluezSlotConfig *a = &bz->cfg.slots[i], *b = &config->slots[i];
		Slot *s = SLOT(bz, i);

		if (a->enabled == b->enabled && a->auto_pick == b->auto_pick &&
		    g_ascii_strcasecmp(a->address, b->address) == 0)
			continue;
		bz->cfg.slots[i] = *b;
		s->want = *b;
		slot_forget(s);
	}
	if (!same_bridge(&bz->cfg, config)) {
		/* simplest is best: the bridged sensors start over. They leave the
		 * list before they go, since going tells the owner, who may look. */
		g_autoptr(GPtrArray) old = g_ptr_array_new_with_free_func(slot_free);

		while (bz->slots->len > PACER_BLUEZ_N_SLOTS) {
			Slot *s = g_ptr_array_steal_index(bz->slots, bz->slots->len - 1);

			slot_release(s);
			g_ptr_array_add(old, s);
		}
		memcpy(bz->cfg.bridge, config->bridge, sizeof(bz->cfg.bridge));
		bz->cfg.n_bridge = config->n_bridge;
		add_bridged(bz, config);
	}
	evaluate(bz);
}
