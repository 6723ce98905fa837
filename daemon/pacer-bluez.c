/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-bluez.h"

#include <errno.h>
#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pacer-fdset.h"
#include "pacer-gatt.h"
#include "pacer-uuid.h"

#define BLUEZ_NAME "org.bluez"
#define OM_IFACE "org.freedesktop.DBus.ObjectManager"
#define PROPS_IFACE "org.freedesktop.DBus.Properties"
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

/*
 * What we keep of bluetoothd's objects: the few properties we use, copied out
 * of the messages (a value taken from a message keeps all of it alive, and
 * GetManagedObjects' reply is big). Services and descriptors are not kept.
 */
typedef struct {
	char *path;
	gboolean powered;
} Adapter;

typedef struct {
	char *path;
	char *adapter; /* its adapter's object path */
	char address[18];
	char *alias;
	int rssi; /* dBm, 0 unknown */
	gboolean connected;
	gboolean services_resolved;
	guint offers; /* a bit per PacerSensorKind whose service is in its UUIDs */
	int battery;  /* Battery1's Percentage, -1 without one */
} Device;

typedef struct {
	PacerBluez *bz;
	PacerBluezSlotConfig want;
	gboolean bridged; /* not the runner's: its kind is known once its services are */
	gboolean kind_known;
	PacerSensorKind kind;
	uint16_t measurement;
	uint16_t feature; /* read once after connecting: location or feature */
	SlotState state;
	char *device_path;
	char address[18];
	char *name;
	int battery;
	int rssi;
	GCancellable *op;
	char *notify_path; /* with StartNotify: the characteristic whose Value we follow */
	int fd;
	guint fd_source; /* in bz->fds (or the main context's, without one) */
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
	GDBusConnection *bus;
	guint om_subscription;    /* InterfacesAdded and InterfacesRemoved */
	guint props_subscription; /* PropertiesChanged of org.bluez.* */
	guint watch;
	char *owner;         /* bluetoothd's unique name while it runs */
	GCancellable *load;  /* GetManagedObjects of this owner */
	gboolean loaded;     /* its reply is in */
	GHashTable *adapters;        /* path -> Adapter */
	GHashTable *devices;         /* path -> Device */
	GHashTable *characteristics; /* path -> 16-bit UUID, only the ones we use */
	char *adapter_path;
	gboolean discovering;
	gboolean discovery_pending;
	guint pick_timer;
	gboolean pick_ready;
	GPtrArray *slots; /* of Slot: the runner's three (by kind), then the bridged ones */
	PacerFdSet *fds;  /* the notification sockets, one poll entry for all; NULL: GLib's own */
};

#define SLOT(bz, i) ((Slot *)g_ptr_array_index((bz)->slots, (i)))

static const uint16_t kind_services[] = {PACER_UUID_HEART_RATE_SERVICE, PACER_UUID_RSC_SERVICE,
					 PACER_UUID_FITNESS_MACHINE_SERVICE};
static const uint16_t kind_measurements[] = {PACER_UUID_HEART_RATE_MEASUREMENT,
					     PACER_UUID_RSC_MEASUREMENT, PACER_UUID_TREADMILL_DATA};
static const uint16_t kind_features[] = {PACER_UUID_BODY_SENSOR_LOCATION, PACER_UUID_RSC_FEATURE,
					 PACER_UUID_FITNESS_MACHINE_FEATURE};

static void evaluate(PacerBluez *bz);
static void slot_lost(Slot *s, const char *why);

/* ---- bluetoothd's objects ---- */

/* The 16-bit SIG UUID of a UUID string (any case, any form). */
static gboolean uuid16_of(const char *s, uint16_t *ret)
{
	PacerUuid uuid;

	return s && pacer_uuid_parse(s, &uuid) == 0 && pacer_uuid_to_u16(&uuid, ret) == 0;
}

static gboolean is_measurement(uint16_t uuid16)
{
	for (size_t k = 0; k < G_N_ELEMENTS(kind_measurements); k++) {
		if (kind_measurements[k] == uuid16)
			return TRUE;
	}
	return FALSE;
}

/* The characteristics we read or follow; the others are not kept. */
static gboolean char_is_used(uint16_t uuid16)
{
	for (size_t k = 0; k < G_N_ELEMENTS(kind_features); k++) {
		if (kind_features[k] == uuid16)
			return TRUE;
	}
	return is_measurement(uuid16) || uuid16 == PACER_UUID_BATTERY_LEVEL;
}

static void adapter_free(gpointer data)
{
	Adapter *a = data;

	g_free(a->path);
	g_free(a);
}

static void device_free(gpointer data)
{
	Device *d = data;

	g_free(d->path);
	g_free(d->adapter);
	g_free(d->alias);
	g_free(d);
}

static Device *device_lookup(PacerBluez *bz, const char *path)
{
	return path ? g_hash_table_lookup(bz->devices, path) : NULL;
}

static void adapter_update(PacerBluez *bz, const char *path, GVariant *props)
{
	Adapter *a = g_hash_table_lookup(bz->adapters, path);

	if (!a) {
		a = g_new0(Adapter, 1);
		a->path = g_strdup(path);
		g_hash_table_insert(bz->adapters, a->path, a);
	}
	g_variant_lookup(props, "Powered", "b", &a->powered);
}

static guint offers_of(const char *const *uuids)
{
	guint offers = 0;
	uint16_t v;

	for (size_t i = 0; uuids[i]; i++) {
		if (!uuid16_of(uuids[i], &v))
			continue;
		for (guint k = 0; k < G_N_ELEMENTS(kind_services); k++) {
			if (v == kind_services[k])
				offers |= 1u << k;
		}
	}
	return offers;
}

/* Takes in the Device1 properties we use from an a{sv} (all of them, or the changed ones). */
static void device_update(Device *d, GVariant *props)
{
	g_autofree const char **uuids = NULL;
	const char *s;
	gint16 rssi;

	if (g_variant_lookup(props, "Address", "&s", &s))
		g_strlcpy(d->address, s, sizeof(d->address));
	if (g_variant_lookup(props, "Alias", "&s", &s)) {
		g_free(d->alias);
		d->alias = g_strdup(s);
	}
	if (g_variant_lookup(props, "Adapter", "&o", &s)) {
		g_free(d->adapter);
		d->adapter = g_strdup(s);
	}
	if (g_variant_lookup(props, "RSSI", "n", &rssi))
		d->rssi = rssi;
	g_variant_lookup(props, "Connected", "b", &d->connected);
	g_variant_lookup(props, "ServicesResolved", "b", &d->services_resolved);
	if (g_variant_lookup(props, "UUIDs", "^a&s", &uuids))
		d->offers = offers_of(uuids);
}

/* Invalidated properties read as absent (bluetoothd drops RSSI after discovery). */
static void device_invalidate(Device *d, const char *const *names)
{
	for (size_t i = 0; names && names[i]; i++) {
		if (g_str_equal(names[i], "RSSI"))
			d->rssi = 0;
		else if (g_str_equal(names[i], "Alias"))
			g_clear_pointer(&d->alias, g_free);
		else if (g_str_equal(names[i], "Connected"))
			d->connected = FALSE;
		else if (g_str_equal(names[i], "ServicesResolved"))
			d->services_resolved = FALSE;
		else if (g_str_equal(names[i], "UUIDs"))
			d->offers = 0;
	}
}

static Device *device_add(PacerBluez *bz, const char *path)
{
	Device *d = g_hash_table_lookup(bz->devices, path);

	if (d)
		return d;
	d = g_new0(Device, 1);
	d->path = g_strdup(path);
	d->battery = -1;
	g_hash_table_insert(bz->devices, d->path, d);
	return d;
}

static void battery_update(Device *d, GVariant *props)
{
	guint8 pct;

	if (g_variant_lookup(props, "Percentage", "y", &pct))
		d->battery = pct;
}

static void char_add(PacerBluez *bz, const char *path, GVariant *props)
{
	const char *uuid;
	uint16_t v;

	if (g_variant_lookup(props, "UUID", "&s", &uuid) && uuid16_of(uuid, &v) && char_is_used(v))
		g_hash_table_insert(bz->characteristics, g_strdup(path), GUINT_TO_POINTER(v));
}

/* The properties (a{sv}) of interface `name` in an a{sa{sv}}, or NULL. */
static GVariant *iface_props(GVariant *ifaces, const char *name)
{
	return g_variant_lookup_value(ifaces, name, G_VARIANT_TYPE_VARDICT);
}

static gboolean has_iface(GVariant *ifaces, const char *name)
{
	g_autoptr(GVariant) props = iface_props(ifaces, name);

	return props != NULL;
}

/* Takes in an object's interfaces (a{sa{sv}}), as announced or as GetManagedObjects lists them. */
static void object_update(PacerBluez *bz, const char *path, GVariant *ifaces)
{
	g_autoptr(GVariant) adapter = iface_props(ifaces, ADAPTER_IFACE);
	g_autoptr(GVariant) device = iface_props(ifaces, DEVICE_IFACE);
	g_autoptr(GVariant) battery = iface_props(ifaces, BATTERY_IFACE);
	g_autoptr(GVariant) chr = iface_props(ifaces, CHAR_IFACE);
	Device *d;

	if (adapter)
		adapter_update(bz, path, adapter);
	if (device)
		device_update(device_add(bz, path), device);
	if (battery && (d = device_lookup(bz, path)))
		battery_update(d, battery);
	if (chr)
		char_add(bz, path, chr);
}

static gboolean device_offers(const Device *dev, PacerSensorKind kind)
{
	return (dev->offers & (1u << kind)) != 0;
}

static gboolean on_our_adapter(PacerBluez *bz, const Device *dev)
{
	return bz->adapter_path && g_strcmp0(dev->adapter, bz->adapter_path) == 0;
}

/* The path of the characteristic with `uuid16` under a device, or NULL. */
static const char *find_char(PacerBluez *bz, const char *device_path, uint16_t uuid16)
{
	size_t n = strlen(device_path);
	GHashTableIter iter;
	gpointer path, v;

	g_hash_table_iter_init(&iter, bz->characteristics);
	while (g_hash_table_iter_next(&iter, &path, &v)) {
		if (GPOINTER_TO_UINT(v) == uuid16 && strncmp(path, device_path, n) == 0 &&
		    ((const char *)path)[n] == '/')
			return path;
	}
	return NULL;
}

/* One method call to bluetoothd; `cb` NULL: no reply wanted. */
static void bluez_call(PacerBluez *bz, const char *path, const char *iface, const char *method,
		       GVariant *args, const GVariantType *reply_type, int timeout_ms,
		       GCancellable *cancellable, GAsyncReadyCallback cb, gpointer user_data)
{
	g_dbus_connection_call(bz->bus, BLUEZ_NAME, path, iface, method, args, reply_type,
			       G_DBUS_CALL_FLAGS_NO_AUTO_START, timeout_ms, cancellable, cb,
			       user_data);
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
	s->kind = kind;
	s->kind_known = TRUE;
	s->measurement = kind_measurements[kind];
	s->feature = kind_features[kind];
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
	/* out of the epoll set before the socket closes */
	if (s->fd_source && s->bz->fds)
		pacer_fd_set_remove(s->bz->fds, s->fd_source);
	else if (s->fd_source)
		g_source_remove(s->fd_source);
	s->fd_source = 0;
	g_clear_handle_id(&s->timer, g_source_remove);
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	g_clear_pointer(&s->notify_path, g_free);
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
	slot_lost(s, "notification socket closed"); /* ends the watch, closes the socket */
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
	g_autoptr(GVariant) ret =
		g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &error);
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

/* A call on one of a slot's characteristics. */
typedef struct {
	Slot *slot;
	uint16_t uuid16;
	char *path;
} CharCall;

static CharCall *char_call_new(Slot *s, uint16_t uuid16, const char *path)
{
	CharCall *call = g_new0(CharCall, 1);

	call->slot = s;
	call->uuid16 = uuid16;
	call->path = g_strdup(path);
	return call;
}

static void char_call_free(CharCall *call)
{
	g_free(call->path);
	g_free(call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CharCall, char_call_free)

static void acquire_done(GObject *src, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CharCall) call = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GUnixFDList) fds = NULL;
	g_autoptr(GVariant) ret = NULL;
	Slot *s;
	gint32 handle = -1;
	guint16 mtu = 0;

	ret = g_dbus_connection_call_with_unix_fd_list_finish(G_DBUS_CONNECTION(src), &fds, res,
							      &error);
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	s = call->slot;
	if (ret)
		g_variant_get(ret, "(hq)", &handle, &mtu);
	if (ret && fds && handle >= 0 && handle < g_unix_fd_list_get_length(fds))
		s->fd = g_unix_fd_list_get(fds, handle, &error);
	if (s->fd < 0) {
		/* some devices mis-advertise AcquireNotify: fall back to StartNotify */
		g_debug("%s: AcquireNotify failed (%s), using StartNotify", s->address,
			error ? error->message : "no descriptor");
		s->notify_path = g_steal_pointer(&call->path);
		bluez_call(s->bz, s->notify_path, CHAR_IFACE, "StartNotify", NULL, NULL,
			   CALL_TIMEOUT_MS, s->op, start_notify_done, s);
		return;
	}
	g_unix_set_fd_nonblocking(s->fd, TRUE, NULL);
	if (s->bz->fds)
		s->fd_source = pacer_fd_set_add(s->bz->fds, s->fd, G_IO_IN, on_notify_fd, s);
	else
		s->fd_source = g_unix_fd_add(s->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_notify_fd, s);
	if (!s->fd_source) {
		slot_lost(s, "cannot watch the notification socket");
		return;
	}
	g_debug("%s: notifications through an acquired socket, MTU %u", s->address, mtu);
	streaming(s);
}

/* A read characteristic (location, feature, battery level): its value goes the same way. */
static void read_done(GObject *src, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(CharCall) call = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) ret =
		g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &error);
	g_autoptr(GVariant) bytes = NULL;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	if (!ret) {
		g_debug("%s: reading %04x failed, ignored: %s", call->slot->address, call->uuid16,
			error->message);
		return;
	}
	bytes = g_variant_get_child_value(ret, 0);
	if (call->uuid16 == PACER_UUID_BATTERY_LEVEL && g_variant_n_children(bytes) > 0) {
		gsize n = 0;
		const uint8_t *b = g_variant_get_fixed_array(bytes, &n, 1);

		call->slot->battery = b[0];
	}
	deliver_variant(call->slot, call->uuid16, bytes);
}

static void read_char(Slot *s, uint16_t uuid16)
{
	const char *path = find_char(s->bz, s->device_path, uuid16);

	if (!path)
		return;
	bluez_call(s->bz, path, CHAR_IFACE, "ReadValue", g_variant_new_parsed("(@a{sv} {},)"),
		   G_VARIANT_TYPE("(ay)"), CALL_TIMEOUT_MS, s->op, read_done,
		   char_call_new(s, uuid16, NULL));
}

static void read_battery(Slot *s)
{
	Device *dev = device_lookup(s->bz, s->device_path);

	if (dev && dev->battery >= 0)
		set_battery(s, dev->battery);
	else
		read_char(s, PACER_UUID_BATTERY_LEVEL);
}

/* ---- connecting ---- */

static gboolean on_resolve_retry(gpointer user_data);

/* Services resolved: find the measurement characteristic by UUID and subscribe. */
static void subscribe(Slot *s)
{
	const char *path = NULL;

	if (s->bridged && !s->kind_known) {
		/* the first of HR, RSC and treadmill measurements the sensor offers */
		for (int k = PACER_SENSOR_HEART_RATE; k <= PACER_SENSOR_TREADMILL && !path; k++) {
			slot_set_kind(s, (PacerSensorKind)k);
			path = find_char(s->bz, s->device_path, s->measurement);
		}
		s->kind_known = path != NULL;
	} else {
		path = find_char(s->bz, s->device_path, s->measurement);
	}

	if (!path) {
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
	g_dbus_connection_call_with_unix_fd_list(
		s->bz->bus, BLUEZ_NAME, path, CHAR_IFACE, "AcquireNotify",
		g_variant_new_parsed("(@a{sv} {},)"), G_VARIANT_TYPE("(hq)"),
		G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS, NULL, s->op, acquire_done,
		char_call_new(s, s->measurement, path));
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
	Device *dev = device_lookup(s->bz, s->device_path);

	if (s->state != SLOT_RESOLVING || !dev)
		return;
	if (dev->connected && dev->services_resolved && !s->fd_source && !s->notify_path &&
	    !s->timer) {
		s->resolve_tries = 0;
		subscribe(s);
	}
}

static void connect_done(GObject *src, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) ret =
		g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &error);
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

static void slot_connect(Slot *s, const Device *dev)
{
	g_free(s->device_path);
	s->device_path = g_strdup(dev->path);
	g_strlcpy(s->address, dev->address, sizeof(s->address));
	for (char *p = s->address; *p; p++)
		*p = g_ascii_toupper(*p);
	g_free(s->name);
	s->name = g_strdup(dev->alias);
	s->rssi = dev->rssi;
	s->resolve_tries = 0;
	slot_new_op(s);
	if (dev->connected) {
		/* still connected from before (bluetoothd keeps links when clients die) */
		s->state = SLOT_RESOLVING;
		check_resolved(s);
		return;
	}
	s->state = SLOT_CONNECTING;
	g_message("%s: connecting to '%s' (%s)", slot_label(s), s->name ? s->name : "",
		  s->address);
	bluez_call(s->bz, s->device_path, DEVICE_IFACE, "Connect", NULL, NULL, CONNECT_TIMEOUT_MS,
		   s->op, connect_done, s);
}

static gboolean on_backoff(gpointer user_data)
{
	Slot *s = user_data;
	Device *dev = device_lookup(s->bz, s->device_path);

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
	g_autoptr(GVariant) ret =
		g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &error);
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
	GVariantBuilder filter;

	if (!bz->adapter_path || !g_hash_table_contains(bz->adapters, bz->adapter_path) ||
	    bz->discovery_pending || bz->discovering == on)
		return;
	bz->discovering = on;
	bz->discovery_pending = TRUE;
	if (!on) {
		bluez_call(bz, bz->adapter_path, ADAPTER_IFACE, "StopDiscovery", NULL, NULL,
			   CALL_TIMEOUT_MS, bz->cancellable, discovery_done, bz);
		return;
	}
	g_variant_builder_init(&filter, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&filter, "{sv}", "Transport", g_variant_new_string("le"));
	g_variant_builder_add(&filter, "{sv}", "UUIDs",
			      g_variant_new_parsed("['0000180d-0000-1000-8000-00805f9b34fb', "
						   "'00001814-0000-1000-8000-00805f9b34fb', "
						   "'00001826-0000-1000-8000-00805f9b34fb']"));
	bluez_call(bz, bz->adapter_path, ADAPTER_IFACE, "SetDiscoveryFilter",
		   g_variant_new("(a{sv})", &filter), NULL, CALL_TIMEOUT_MS, bz->cancellable, NULL,
		   NULL);
	/* calls on one connection are delivered in order: the filter is set first */
	bluez_call(bz, bz->adapter_path, ADAPTER_IFACE, "StartDiscovery", NULL, NULL,
		   CALL_TIMEOUT_MS, bz->cancellable, discovery_done, bz);
	g_message("discovering heart-rate, RSC and fitness machine sensors");
}

/* The device a slot should use now: its configured address, or the strongest candidate. */
static Device *choose_device(PacerBluez *bz, Slot *s, gboolean *ret_candidates)
{
	const PacerBluezSlotConfig *sc = &s->want;
	Device *best = NULL;
	int best_rssi = G_MININT;
	GHashTableIter iter;
	gpointer value;

	*ret_candidates = FALSE;
	g_hash_table_iter_init(&iter, bz->devices);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		Device *dev = value;
		int rssi;

		if (!on_our_adapter(bz, dev) || slot_uses_device(bz, dev->path))
			continue;
		if (!sc->auto_pick) {
			if (dev->address[0] && g_ascii_strcasecmp(dev->address, sc->address) == 0)
				return dev;
			continue;
		}
		if (!device_offers(dev, s->kind))
			continue;
		*ret_candidates = TRUE;
		rssi = dev->rssi != 0 ? dev->rssi : -127;
		if (rssi > best_rssi) {
			best = dev;
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
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, bz->adapters);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		const Adapter *a = value;
		g_autofree char *base = g_path_get_basename(a->path);

		if (bz->cfg.adapter ? g_strcmp0(base, bz->cfg.adapter) != 0 : !a->powered)
			continue;
		bz->adapter_path = g_strdup(a->path);
		g_message("using adapter %s", a->path);
		return;
	}
}

static void evaluate(PacerBluez *bz)
{
	gboolean want_discovery = FALSE, connecting = FALSE;

	if (!bz->loaded)
		return;
	if (!bz->adapter_path)
		choose_adapter(bz);
	if (!bz->adapter_path)
		return;
	for (guint i = 0; i < bz->slots->len; i++) {
		Slot *s = SLOT(bz, i);
		const PacerBluezSlotConfig *sc = &s->want;
		Device *dev;
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
		if (g_strcmp0(SLOT(bz, i)->notify_path, path) == 0)
			return SLOT(bz, i);
	}
	return NULL;
}

static void device_changed(PacerBluez *bz, const char *path, GVariant *changed,
			   const char *const *invalidated)
{
	Device *dev = device_lookup(bz, path);
	Slot *s = slot_for_device(bz, path);
	gboolean flag;
	gint16 rssi;

	if (!dev)
		return;
	device_update(dev, changed);
	device_invalidate(dev, invalidated);
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

static void battery_changed(PacerBluez *bz, const char *path, GVariant *changed)
{
	Device *dev = device_lookup(bz, path);
	Slot *s = slot_for_device(bz, path);
	guint8 pct;

	if (dev)
		battery_update(dev, changed);
	if (s && g_variant_lookup(changed, "Percentage", "y", &pct) && s->state == SLOT_STREAMING)
		set_battery(s, pct);
}

static void on_properties_changed(GDBusConnection *bus, const char *sender, const char *path,
				  const char *iface, const char *member, GVariant *params,
				  gpointer user_data)
{
	PacerBluez *bz = user_data;
	g_autoptr(GVariant) changed = NULL;
	g_autofree const char **invalidated = NULL;
	const char *name;
	Adapter *a;
	Slot *s;

	if (g_strcmp0(sender, bz->owner) != 0 ||
	    !g_variant_is_of_type(params, G_VARIANT_TYPE("(sa{sv}as)")))
		return;
	g_variant_get(params, "(&s@a{sv}^a&s)", &name, &changed, &invalidated);
	if (g_str_equal(name, CHAR_IFACE)) {
		g_autoptr(GVariant) value = NULL;

		s = slot_for_char(bz, path);
		if (s && s->state == SLOT_STREAMING)
			value = g_variant_lookup_value(changed, "Value", G_VARIANT_TYPE_BYTESTRING);
		if (value)
			deliver_variant(s, s->measurement, value);
	} else if (g_str_equal(name, DEVICE_IFACE)) {
		device_changed(bz, path, changed, invalidated);
	} else if (g_str_equal(name, BATTERY_IFACE)) {
		battery_changed(bz, path, changed);
	} else if (g_str_equal(name, ADAPTER_IFACE) &&
		   (a = g_hash_table_lookup(bz->adapters, path))) {
		g_variant_lookup(changed, "Powered", "b", &a->powered);
		evaluate(bz);
	}
}

static void interfaces_added(PacerBluez *bz, GVariant *params)
{
	g_autoptr(GVariant) ifaces = NULL;
	const char *path;
	Device *dev;
	Slot *s;
	uint16_t uuid16;

	g_variant_get(params, "(&o@a{sa{sv}})", &path, &ifaces);
	object_update(bz, path, ifaces);

	/* bluetoothd adds Battery1 after ServicesResolved: read it when it comes */
	s = slot_for_device(bz, path);
	dev = device_lookup(bz, path);
	if (s && s->state == SLOT_STREAMING && dev && dev->battery >= 0 &&
	    has_iface(ifaces, BATTERY_IFACE))
		set_battery(s, dev->battery);

	/* the measurement characteristic may come after ServicesResolved */
	uuid16 = GPOINTER_TO_UINT(g_hash_table_lookup(bz->characteristics, path));
	for (guint i = 0; i < bz->slots->len && is_measurement(uuid16); i++) {
		s = SLOT(bz, i);
		if (s->device_path && g_str_has_prefix(path, s->device_path) &&
		    s->state == SLOT_RESOLVING && s->timer &&
		    (uuid16 == s->measurement || !s->kind_known)) {
			g_clear_handle_id(&s->timer, g_source_remove);
			subscribe(s);
		}
	}
	evaluate(bz);
}

static void device_removed(PacerBluez *bz, const char *path)
{
	Slot *s = slot_for_device(bz, path);

	g_hash_table_remove(bz->devices, path);
	if (s) {
		gboolean streaming = s->state == SLOT_STREAMING;

		slot_forget(s);
		if (streaming)
			g_message("%s: device removed", slot_label(s));
	}
}

static void adapter_removed(PacerBluez *bz, const char *path)
{
	g_hash_table_remove(bz->adapters, path);
	if (g_strcmp0(path, bz->adapter_path) != 0)
		return;
	g_message("adapter %s removed", path);
	for (guint i = 0; i < bz->slots->len; i++)
		slot_forget(SLOT(bz, i));
	g_clear_pointer(&bz->adapter_path, g_free);
	bz->discovering = FALSE;
}

static void interfaces_removed(PacerBluez *bz, GVariant *params)
{
	g_autofree const char **ifaces = NULL;
	const char *path;
	Device *dev;

	g_variant_get(params, "(&o^a&s)", &path, &ifaces);
	for (size_t i = 0; ifaces[i]; i++) {
		if (g_str_equal(ifaces[i], DEVICE_IFACE))
			device_removed(bz, path);
		else if (g_str_equal(ifaces[i], ADAPTER_IFACE))
			adapter_removed(bz, path);
		else if (g_str_equal(ifaces[i], CHAR_IFACE))
			g_hash_table_remove(bz->characteristics, path);
		else if (g_str_equal(ifaces[i], BATTERY_IFACE) && (dev = device_lookup(bz, path)))
			dev->battery = -1;
	}
	evaluate(bz);
}

static void on_object_manager_signal(GDBusConnection *bus, const char *sender, const char *path,
				     const char *iface, const char *member, GVariant *params,
				     gpointer user_data)
{
	PacerBluez *bz = user_data;

	if (g_strcmp0(sender, bz->owner) != 0)
		return;
	if (g_str_equal(member, "InterfacesAdded") &&
	    g_variant_is_of_type(params, G_VARIANT_TYPE("(oa{sa{sv}})")))
		interfaces_added(bz, params);
	else if (g_str_equal(member, "InterfacesRemoved") &&
		 g_variant_is_of_type(params, G_VARIANT_TYPE("(oas)")))
		interfaces_removed(bz, params);
}

static void objects_loaded(GObject *src, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) ret =
		g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &error);
	g_autoptr(GVariantIter) objects = NULL;
	PacerBluez *bz;
	const char *path;
	GVariant *ifaces;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	bz = user_data;
	if (!ret) {
		g_warning("cannot list bluetoothd's objects, ignored: %s", error->message);
	} else {
		/* copies of what we use: the reply goes as soon as it is read */
		g_variant_get(ret, "(a{oa{sa{sv}}})", &objects);
		while (g_variant_iter_loop(objects, "{&o@a{sa{sv}}}", &path, &ifaces))
			object_update(bz, path, ifaces);
	}
	bz->loaded = TRUE;
	evaluate(bz);
}

static void on_bluez_appeared(GDBusConnection *bus, const char *name, const char *owner,
			      gpointer user_data)
{
	PacerBluez *bz = user_data;

	g_message("bluetoothd is running");
	g_free(bz->owner);
	bz->owner = g_strdup(owner);
	g_cancellable_cancel(bz->load);
	g_clear_object(&bz->load);
	bz->load = g_cancellable_new();
	/* the signals are subscribed already: nothing between this reply and them is missed */
	g_dbus_connection_call(bz->bus, owner, "/", OM_IFACE, "GetManagedObjects", NULL,
			       G_VARIANT_TYPE("(a{oa{sa{sv}}})"), G_DBUS_CALL_FLAGS_NONE, -1,
			       bz->load, objects_loaded, bz);
}

static void on_bluez_vanished(GDBusConnection *bus, const char *name, gpointer user_data)
{
	PacerBluez *bz = user_data;

	g_message("bluetoothd went away: dropping every sensor until it is back");
	for (guint i = 0; i < bz->slots->len; i++)
		slot_forget(SLOT(bz, i));
	g_clear_pointer(&bz->adapter_path, g_free);
	g_clear_handle_id(&bz->pick_timer, g_source_remove);
	bz->pick_ready = FALSE;
	bz->discovering = FALSE;
	bz->discovery_pending = FALSE;
	g_clear_pointer(&bz->owner, g_free);
	g_cancellable_cancel(bz->load);
	g_clear_object(&bz->load);
	bz->loaded = FALSE;
	g_hash_table_remove_all(bz->adapters);
	g_hash_table_remove_all(bz->devices);
	g_hash_table_remove_all(bz->characteristics);
}

static void bus_ready(GObject *src, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	GDBusConnection *bus = g_bus_get_finish(res, &error);
	PacerBluez *bz;

	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return;
	bz = user_data;
	if (!bus) {
		g_warning("cannot watch bluetoothd on the system bus, running without sensors: %s",
			  error->message);
		return;
	}
	bz->bus = bus;
	/* two match rules for every object: subscribed before GetManagedObjects is called */
	bz->om_subscription = g_dbus_connection_signal_subscribe(
		bus, BLUEZ_NAME, OM_IFACE, NULL, "/", NULL, G_DBUS_SIGNAL_FLAGS_NONE,
		on_object_manager_signal, bz, NULL);
	bz->props_subscription = g_dbus_connection_signal_subscribe(
		bus, BLUEZ_NAME, PROPS_IFACE, "PropertiesChanged", NULL, BLUEZ_NAME,
		G_DBUS_SIGNAL_FLAGS_MATCH_ARG0_NAMESPACE, on_properties_changed, bz, NULL);
	bz->watch = g_bus_watch_name_on_connection(bus, BLUEZ_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
						   on_bluez_appeared, on_bluez_vanished, bz, NULL);
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
	bz->adapters = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, adapter_free);
	bz->devices = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, device_free);
	bz->characteristics = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	bz->slots = g_ptr_array_new_with_free_func(slot_free);
	bz->fds = pacer_fd_set_new(NULL);
	if (!bz->fds)
		g_warning("epoll: %s; each sensor socket is polled on its own", g_strerror(errno));
	for (guint i = 0; i < PACER_BLUEZ_N_SLOTS; i++)
		g_ptr_array_add(bz->slots, slot_new(bz, &config->slots[i], FALSE, (PacerSensorKind)i));
	add_bridged(bz, config);
	return bz;
}

void pacer_bluez_start(PacerBluez *bz)
{
	g_bus_get(G_BUS_TYPE_SYSTEM, bz->cancellable, bus_ready, bz);
}

/* Lets a slot's sensor go (bluetoothd keeps links when a client goes away). */
static void slot_release(Slot *s)
{
	if (device_lookup(s->bz, s->device_path) && s->state != SLOT_IDLE)
		bluez_call(s->bz, s->device_path, DEVICE_IFACE, "Disconnect", NULL, NULL, 1000,
			   NULL, NULL, NULL);
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
	g_clear_pointer(&bz->fds, pacer_fd_set_free);
	g_cancellable_cancel(bz->cancellable);
	g_clear_object(&bz->cancellable);
	g_clear_handle_id(&bz->pick_timer, g_source_remove);
	g_clear_handle_id(&bz->watch, g_bus_unwatch_name);
	if (bz->bus) {
		g_dbus_connection_signal_unsubscribe(bz->bus, bz->om_subscription);
		g_dbus_connection_signal_unsubscribe(bz->bus, bz->props_subscription);
		g_clear_object(&bz->bus);
	}
	g_cancellable_cancel(bz->load);
	g_clear_object(&bz->load);
	g_clear_pointer(&bz->owner, g_free);
	g_hash_table_unref(bz->adapters);
	g_hash_table_unref(bz->devices);
	g_hash_table_unref(bz->characteristics);
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
