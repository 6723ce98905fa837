/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-mqtt.h"

#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <MQTTAsync.h>
#include <gio/gio.h>

#include "pacer-gatt-json.h"
#include "pacer-json.h"
#include "pacer-mqtt-payload.h"
#include "pacer-mqtt-raw.h"

#ifndef PACER_VERSION
#define PACER_VERSION "unknown"
#endif

#define RECONNECT_MIN_MS 1000
#define RECONNECT_MAX_MS 30000
#define KEEPALIVE_S 30
#define CONNECT_TIMEOUT_S 10
#define WINDOW 64	/* QoS 1 messages in flight at once */
#define MAX_ATTEMPTS 5	/* a message whose publish failed this often is dropped */
#define FLUSH_MS 3000	/* at exit: time to send what is queued */
#define DISCONNECT_MS 1000
#define MAX_SENSORS PACER_DAEMON_MAX_SENSORS
#define REJECT_LOG_US G_USEC_PER_SEC

/* ---- what Paho's threads hand over ---- */

typedef enum {
	ITEM_CONNECTED,
	ITEM_CONNECT_FAILED,
	ITEM_LOST,
	ITEM_DELIVERED,
	ITEM_SEND_FAILED,
	ITEM_MESSAGE,
	ITEM_SUBSCRIBE_FAILED,
	ITEM_DISCONNECTED,
	ITEM_TLS_ERROR,
} ItemType;

typedef struct {
	ItemType type;
	int token;
	int code;
	char *text;	  /* a failure's message, the cause of a loss, a TLS error, a topic */
	gsize text_len;	  /* a topic's length as received */
	GBytes *payload;  /* a message's first PACER_MQTT_COMMAND_MAX + 1 octets */
	gsize payload_len; /* ... and its real length */
	gboolean retained;
} Item;

/*
 * Shared by the main thread and Paho's (Paho's context pointer is this, never
 * the PacerMqtt): reference counted, so that a late callback or a pending
 * main-context call finds it alive. `mqtt` is read and written on the main
 * thread only; it is NULL once the front end is gone.
 */
typedef struct {
	GMainContext *context;
	GAsyncQueue *items;
	gint scheduled; /* a main-context call is pending */
	PacerMqtt *mqtt;
} Link;

/* ---- Paho, loaded when needed ---- */

/*
 * Paho comes in two builds, with OpenSSL (ssl://, wss://) and without. The
 * plain one is loaded unless TLS is configured: OpenSSL would otherwise sit
 * in every pacerd's memory (about 2 MB resident) for nothing.
 */
static struct {
	__typeof__(&MQTTAsync_global_init) global_init;
	__typeof__(&MQTTAsync_create) create;
	__typeof__(&MQTTAsync_setCallbacks) set_callbacks;
	__typeof__(&MQTTAsync_connect) connect;
	__typeof__(&MQTTAsync_disconnect) disconnect;
	__typeof__(&MQTTAsync_sendMessage) send_message;
	__typeof__(&MQTTAsync_subscribe) subscribe;
	__typeof__(&MQTTAsync_freeMessage) free_message;
	__typeof__(&MQTTAsync_free) free;
	__typeof__(&MQTTAsync_destroy) destroy;
	void *handle;
	gboolean tls;
} paho;

static gboolean paho_load(gboolean tls, GError **error)
{
	const char *name = tls ? "libpaho-mqtt3as.so.1" : "libpaho-mqtt3a.so.1";
	void *h;

	if (paho.handle && (paho.tls || !tls))
		return TRUE; /* loaded once per process; the TLS build does both */
	h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
			    "mqtt: cannot load the MQTT library: %s (package libpaho-mqtt1.3)",
			    dlerror());
		return FALSE;
	}
#define SYM(field, symbol)                                                  \
	if (!(*(void **)&paho.field = dlsym(h, symbol))) {                  \
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,         \
			    "mqtt: %s lacks %s: not Paho 1.3 or later", name, symbol); \
		dlclose(h);                                                  \
		memset(&paho, 0, sizeof(paho));                              \
		return FALSE;                                                \
	}
	SYM(global_init, "MQTTAsync_global_init")
	SYM(create, "MQTTAsync_create")
	SYM(set_callbacks, "MQTTAsync_setCallbacks")
	SYM(connect, "MQTTAsync_connect")
	SYM(disconnect, "MQTTAsync_disconnect")
	SYM(send_message, "MQTTAsync_sendMessage")
	SYM(subscribe, "MQTTAsync_subscribe")
	SYM(free_message, "MQTTAsync_freeMessage")
	SYM(free, "MQTTAsync_free")
	SYM(destroy, "MQTTAsync_destroy")
#undef SYM
	paho.handle = h;
	paho.tls = tls;
	if (tls) {
		/* OpenSSL 3 initialises itself when a connection first needs it;
		 * Paho's own initialisation loads all of its tables up front */
		MQTTAsync_init_options init = MQTTAsync_init_options_initializer;

		init.do_openssl_init = 0;
		paho.global_init(&init);
	}
	return TRUE;
}

/* ---- the queue ---- */

typedef enum {
	MSG_EVENT,   /* QoS 1, in order, dropped oldest first when the queue is full */
	MSG_STATE,   /* QoS 1 retained: only the latest per topic waits */
	MSG_METRICS, /* QoS 0: only the latest waits */
} MsgKind;

typedef struct {
	MsgKind kind;
	char *topic;
	GBytes *payload;
	int qos;
	gboolean retained;
	int token; /* Paho's, while in flight */
	gboolean failed;
	guint attempts;
} Msg;

typedef enum {
	STATE_DISCONNECTED,
	STATE_CONNECTING,
	STATE_CONNECTED,
} ConnState;

struct _PacerMqtt {
	PacerDaemon *daemon;
	Link *link;
	MQTTAsync client;

	/* [mqtt], copied at start */
	char *uri;	/* as configured */
	char *client_id;
	char *node;
	char *base; /* base_topic/node */
	char *ha_prefix;
	char *username, *password;
	char *ca_file, *cert_file, *key_file;
	gboolean tls, ha_discovery, commands, raw;
	guint64 interval_us;
	guint queue_size;
	char *topic_status, *topic_detail, *topic_metrics, *topic_event, *topic_workout;
	char *cmd_prefix; /* base/cmd/ */

	ConnState state;
	guint reconnect_source;
	guint backoff_ms;
	char *last_failure; /* the kind of connection failure last logged, until one succeeds */
	char *tls_error;    /* OpenSSL's last word, for the next failure's log line */
	gboolean closing;
	gboolean disconnected; /* the goodbye disconnect completed */

	GQueue queue;		   /* Msg*, waiting, in order */
	guint n_events;		   /* the events in queue: queue_size bounds them (and metrics) */
	GHashTable *queued_states; /* topic -> its GList link in queue */
	GQueue inflight;	   /* Msg*, sent with QoS 1, waiting for the PUBACK, in order */
	Msg *metrics;		   /* the latest metrics while the broker is away */
	guint64 dropped_events, dropped_metrics, dropped_raw, connects;
	char *raw_prefix;	/* base/raw/, a value's topic without its address */
	gsize raw_prefix_len;
	PacerMqttRaw *raw_link; /* raw values' own connection (tcp:// brokers), or NULL */
	guint64 drops_at_connect; /* dropped_* when the last connection started */
	guint64 drops_published;  /* dropped_* in the last status/detail */
	gboolean drop_warned;	  /* the queue-full warning of this outage was logged */
	gint64 last_reject_log;

	/* what the topics last said */
	gboolean has_metrics_t;
	guint64 last_metrics_us;
	double rr[PACER_MQTT_MAX_RR];
	size_t n_rr;
	char *workout_text; /* of the workout that started last */
	guint workout_gen;  /* counts the workouts started */
	gboolean workout_published;
	PacerCoachState w_state;
	int w_step;
	size_t w_n_steps;
	gboolean w_free_run;
	guint w_gen;
	PacerDaemonSensor sensors[MAX_SENSORS];
	guint n_sensors;
};

static void handle_item(PacerMqtt *m, Item *it);
static void pump(PacerMqtt *m);
static void start_connect(PacerMqtt *m);

/* ---- Paho's threads: copy, hand over, nothing else ---- */

static void item_free(gpointer data)
{
	Item *it = data;

	g_free(it->text);
	g_clear_pointer(&it->payload, g_bytes_unref);
	g_free(it);
}

static void link_clear(gpointer data)
{
	Link *link = data;

	g_async_queue_unref(link->items);
	g_main_context_unref(link->context);
}

static void link_unref(gpointer data)
{
	g_atomic_rc_box_release_full(data, link_clear);
}

static gboolean on_items(gpointer data)
{
	Link *link = data;
	Item *it;

	g_atomic_int_set(&link->scheduled, 0);
	while ((it = g_async_queue_try_pop(link->items))) {
		if (link->mqtt)
			handle_item(link->mqtt, it);
		item_free(it);
	}
	return G_SOURCE_REMOVE;
}

/* Any thread: queue the item, and wake the main context unless a wake-up is pending. */
static void post(Link *link, Item *it)
{
	g_async_queue_push(link->items, it);
	if (g_atomic_int_compare_and_exchange(&link->scheduled, 0, 1))
		g_main_context_invoke_full(link->context, G_PRIORITY_DEFAULT, on_items,
					   g_atomic_rc_box_acquire(link), link_unref);
}

static Item *item_new(ItemType type)
{
	Item *it = g_new0(Item, 1);

	it->type = type;
	return it;
}

static void on_connect_success(void *context, MQTTAsync_successData *response)
{
	post(context, item_new(ITEM_CONNECTED));
}

static void on_connect_failure(void *context, MQTTAsync_failureData *response)
{
	Item *it = item_new(ITEM_CONNECT_FAILED);

	if (response) {
		it->code = response->code;
		it->text = g_strdup(response->message);
	}
	post(context, it);
}

static void on_connection_lost(void *context, char *cause)
{
	Item *it = item_new(ITEM_LOST);

	it->text = g_strdup(cause);
	post(context, it);
}

static int on_message_arrived(void *context, char *topic, int topic_len, MQTTAsync_message *message)
{
	Item *it = item_new(ITEM_MESSAGE);
	gsize len = topic_len > 0 ? (gsize)topic_len : strlen(topic);
	gsize plen = message->payloadlen > 0 ? (gsize)message->payloadlen : 0;

	it->text = g_malloc(len + 1);
	memcpy(it->text, topic, len);
	it->text[len] = '\0';
	it->text_len = len;
	it->payload_len = plen;
	/* a command is at most PACER_MQTT_COMMAND_MAX octets: no need to keep more */
	it->payload = g_bytes_new(message->payload, MIN(plen, PACER_MQTT_COMMAND_MAX + 1));
	it->retained = message->retained != 0;
	paho.free_message(&message);
	paho.free(topic);
	post(context, it);
	return 1;
}

static void on_publish_success(void *context, MQTTAsync_successData *response)
{
	Item *it = item_new(ITEM_DELIVERED);

	it->token = response ? response->token : 0;
	post(context, it);
}

static void on_publish_failure(void *context, MQTTAsync_failureData *response)
{
	Item *it = item_new(ITEM_SEND_FAILED);

	if (response) {
		it->token = response->token;
		it->code = response->code;
	}
	post(context, it);
}

static void on_subscribe_failure(void *context, MQTTAsync_failureData *response)
{
	Item *it = item_new(ITEM_SUBSCRIBE_FAILED);

	if (response) {
		it->code = response->code;
		it->text = g_strdup(response->message);
	}
	post(context, it);
}

static void on_disconnect_success(void *context, MQTTAsync_successData *response)
{
	post(context, item_new(ITEM_DISCONNECTED));
}

static void on_disconnect_failure(void *context, MQTTAsync_failureData *response)
{
	post(context, item_new(ITEM_DISCONNECTED));
}

static int on_tls_error(const char *str, size_t len, void *context)
{
	Item *it = item_new(ITEM_TLS_ERROR);

	it->text = g_strndup(str, len);
	post(context, it);
	return 0;
}

/* ---- messages and the queue (main thread) ---- */

static Msg *msg_new(MsgKind kind, const char *topic, const void *payload, gsize len, int qos,
		    gboolean retained)
{
	Msg *msg = g_new0(Msg, 1);

	msg->kind = kind;
	msg->topic = g_strdup(topic);
	msg->payload = g_bytes_new(payload, len);
	msg->qos = qos;
	msg->retained = retained;
	return msg;
}

static void msg_free(gpointer data)
{
	Msg *msg = data;

	if (!msg)
		return;
	g_free(msg->topic);
	g_bytes_unref(msg->payload);
	g_free(msg);
}

static guint queued(const PacerMqtt *m)
{
	return m->queue.length + (m->metrics ? 1 : 0);
}

/* What queue_size bounds: events and the metrics message; states are one a topic and stay. */
static guint bounded(const PacerMqtt *m)
{
	return m->n_events + (m->metrics ? 1 : 0);
}

static void note_drop(PacerMqtt *m)
{
	if (m->drop_warned)
		return;
	m->drop_warned = TRUE;
	g_warning("mqtt: the queue is full (%u messages): dropping metrics first, then the oldest "
		  "events; the count is in status/detail",
		  m->queue_size);
}

/* Drops the oldest event; FALSE when there is none (only states wait). */
static gboolean drop_oldest_event(PacerMqtt *m)
{
	for (GList *l = m->queue.head; l; l = l->next) {
		Msg *msg = l->data;

		if (msg->kind != MSG_EVENT)
			continue;
		g_queue_delete_link(&m->queue, l);
		msg_free(msg);
		m->n_events--;
		m->dropped_events++;
		note_drop(m);
		return TRUE;
	}
	return FALSE;
}

/* Room for one more event: metrics go first, then the oldest events. */
static void make_room(PacerMqtt *m)
{
	while (bounded(m) >= m->queue_size) {
		if (m->metrics) {
			g_clear_pointer(&m->metrics, msg_free);
			m->dropped_metrics++;
			note_drop(m);
			continue;
		}
		if (!drop_oldest_event(m))
			return;
	}
}

/* Forgets a waiting state of the same topic: the newer one supersedes it. */
static void forget_state(PacerMqtt *m, const char *topic)
{
	GList *l = g_hash_table_lookup(m->queued_states, topic);

	if (!l)
		return;
	g_hash_table_remove(m->queued_states, topic);
	msg_free(l->data);
	g_queue_delete_link(&m->queue, l);
}

static void enqueue(PacerMqtt *m, Msg *msg)
{
	if (msg->kind == MSG_STATE) {
		forget_state(m, msg->topic);
		g_queue_push_tail(&m->queue, msg);
		g_hash_table_insert(m->queued_states, msg->topic, m->queue.tail);
	} else {
		make_room(m);
		g_queue_push_tail(&m->queue, msg);
		m->n_events++;
	}
	pump(m);
}

/* Back to the front of the queue (a message that was in flight), unless a newer state waits. */
static void requeue_front(PacerMqtt *m, Msg *msg)
{
	msg->token = 0;
	msg->failed = FALSE;
	if (msg->kind == MSG_STATE && g_hash_table_contains(m->queued_states, msg->topic)) {
		msg_free(msg);
		return;
	}
	g_queue_push_head(&m->queue, msg);
	if (msg->kind == MSG_STATE)
		g_hash_table_insert(m->queued_states, msg->topic, m->queue.head);
	else
		m->n_events++;
}

static Msg *dequeue(PacerMqtt *m)
{
	Msg *msg = g_queue_pop_head(&m->queue);

	if (msg && msg->kind == MSG_STATE)
		g_hash_table_remove(m->queued_states, msg->topic);
	else if (msg)
		m->n_events--;
	return msg;
}

static int send_msg(PacerMqtt *m, Msg *msg)
{
	MQTTAsync_responseOptions opts = MQTTAsync_responseOptions_initializer;
	MQTTAsync_message pm = MQTTAsync_message_initializer;
	gsize len = 0;
	gconstpointer data = g_bytes_get_data(msg->payload, &len);
	int rc;

	pm.payload = (void *)(data ? data : "");
	pm.payloadlen = (int)len;
	pm.qos = msg->qos;
	pm.retained = msg->retained;
	if (msg->qos > 0) {
		opts.onSuccess = on_publish_success;
		opts.onFailure = on_publish_failure;
		opts.context = m->link;
	}
	rc = paho.send_message(m->client, msg->topic, &pm, &opts);
	if (rc == MQTTASYNC_SUCCESS)
		msg->token = opts.token;
	return rc;
}

static void connection_down(PacerMqtt *m);

/* Ends a connection that misbehaves; Paho then reports no loss: connection_down() follows. */
static void force_disconnect(PacerMqtt *m)
{
	MQTTAsync_disconnectOptions opts = MQTTAsync_disconnectOptions_initializer;

	(void)paho.disconnect(m->client, &opts);
}

/* Sends what waits, as far as the window allows; metrics last. */
static void pump(PacerMqtt *m)
{
	while (m->state == STATE_CONNECTED && m->inflight.length < WINDOW &&
	       !g_queue_is_empty(&m->queue)) {
		Msg *msg = dequeue(m);
		int rc = send_msg(m, msg);

		if (rc != MQTTASYNC_SUCCESS) {
			g_warning("mqtt: cannot publish on '%s' (Paho error %d): reconnecting", msg->topic,
				  rc);
			requeue_front(m, msg);
			force_disconnect(m);
			connection_down(m);
			return;
		}
		g_queue_push_tail(&m->inflight, msg);
	}
	if (m->state == STATE_CONNECTED && m->metrics) {
		/* QoS 0: sent once, whatever becomes of it */
		(void)send_msg(m, m->metrics);
		g_clear_pointer(&m->metrics, msg_free);
	}
}

/* ---- states ---- */

static PacerCoach *coach(PacerMqtt *m)
{
	return pacer_pipeline_get_coach(pacer_daemon_get_pipeline(m->daemon));
}

static void publish_state(PacerMqtt *m, const char *topic, const char *payload, int len)
{
	if (len < 0) {
		g_warning("mqtt: the message for '%s' does not fit, not sent", topic);
		return;
	}
	enqueue(m, msg_new(MSG_STATE, topic, payload, (gsize)len, 1, TRUE));
}

/* The workout's text: of the one that ran last, or the one [coach] queued. */
static const char *workout_text(PacerMqtt *m, const PacerCoachStatus *st)
{
	const PacerConfig *c = pacer_daemon_get_config(m->daemon);

	switch (st->state) {
	case PACER_COACH_RUNNING:
	case PACER_COACH_PAUSED:
	case PACER_COACH_FINISHED:
		return m->workout_text;
	case PACER_COACH_READY:
		return c->coach.workout_text;
	case PACER_COACH_IDLE:
		break;
	}
	return NULL;
}

/* The workout topic, when its state, step or workout changed (or `force`). */
static void update_workout(PacerMqtt *m, const PacerCoachStatus *st, gboolean force)
{
	char buf[PACER_MQTT_PAYLOAD_MAX];
	const char *text = workout_text(m, st);

	if (!force && m->workout_published && st->state == m->w_state && st->step == m->w_step &&
	    st->n_steps == m->w_n_steps && st->free_run == m->w_free_run &&
	    m->workout_gen == m->w_gen)
		return;
	m->workout_published = TRUE;
	m->w_state = st->state;
	m->w_step = st->step;
	m->w_n_steps = st->n_steps;
	m->w_free_run = st->free_run;
	m->w_gen = m->workout_gen;
	publish_state(m, m->topic_workout, buf, pacer_mqtt_workout_json(st, text, buf, sizeof(buf)));
}

static void update_workout_now(PacerMqtt *m, gboolean force)
{
	PacerCoachStatus st;

	pacer_coach_get_status(coach(m), &st);
	update_workout(m, &st, force);
}

static gboolean sensor_equal(const PacerDaemonSensor *a, const PacerDaemonSensor *b)
{
	return a->kind == b->kind && a->connected == b->connected && a->battery == b->battery &&
	       a->rssi == b->rssi && strcmp(a->name, b->name) == 0;
}

static void publish_sensor(PacerMqtt *m, const PacerDaemonSensor *s)
{
	PacerMqttSensor ms = {.address = s->address, .name = s->name, .kind = s->kind,
			      .connected = s->connected, .battery = s->battery, .rssi = s->rssi};
	g_autofree char *topic = g_strdup_printf("%s/sensor/%s", m->base, s->address);
	char buf[1024];

	publish_state(m, topic, buf, pacer_mqtt_sensor_json(&ms, buf, sizeof(buf)));
}

static const PacerDaemonSensor *find_sensor(const PacerDaemonSensor *list, guint n,
					    const char *address)
{
	for (guint i = 0; i < n; i++) {
		if (strcmp(list[i].address, address) == 0)
			return &list[i];
	}
	return NULL;
}

/* sensor/<address> for each sensor that changed; one that went away is disconnected. */
static void update_sensors(PacerMqtt *m, gboolean force)
{
	PacerDaemonSensor now[MAX_SENSORS];
	guint n = pacer_daemon_get_sensors(m->daemon, now, MAX_SENSORS);

	for (guint i = 0; i < n; i++) {
		const PacerDaemonSensor *old = find_sensor(m->sensors, m->n_sensors, now[i].address);

		if (force || !old || !sensor_equal(old, &now[i]))
			publish_sensor(m, &now[i]);
	}
	for (guint i = 0; i < m->n_sensors && n < MAX_SENSORS; i++) {
		PacerDaemonSensor gone = m->sensors[i];

		if (find_sensor(now, n, gone.address))
			continue;
		if (gone.connected || force) {
			gone.connected = FALSE;
			publish_sensor(m, &gone);
		}
		now[n++] = gone;
	}
	memcpy(m->sensors, now, n * sizeof(now[0]));
	m->n_sensors = n;
}

static void publish_detail(PacerMqtt *m)
{
	PacerMqttDetail d = {.version = PACER_VERSION, .queue_size = m->queue_size,
			     .queued = queued(m), .dropped_events = m->dropped_events,
			     .dropped_metrics = m->dropped_metrics,
			     .dropped_raw = m->dropped_raw + pacer_mqtt_raw_get_lost(m->raw_link),
			     .connects = m->connects};
	char buf[1024];

	m->drops_published = m->dropped_events + m->dropped_metrics;
	publish_state(m, m->topic_detail, buf, pacer_mqtt_detail_json(&d, buf, sizeof(buf)));
}

/* Home Assistant's configs, or empty retained messages that remove them. */
static void announce_ha(PacerMqtt *m)
{
	PacerMqttHaDevice dev = {.node = m->node, .base = m->base, .ha_prefix = m->ha_prefix,
				 .sw_version = PACER_VERSION};

	for (size_t i = 0; i < pacer_mqtt_ha_n_entities(); i++) {
		const PacerMqttHaEntity *e = pacer_mqtt_ha_entity(i);
		char topic[512], buf[PACER_MQTT_PAYLOAD_MAX];
		int len = 0;

		if (pacer_mqtt_ha_config_topic(&dev, e, topic, sizeof(topic)) < 0) {
			g_warning("mqtt: the Home Assistant topic for '%s' is too long, not sent", e->id);
			continue;
		}
		if (m->ha_discovery)
			len = pacer_mqtt_ha_config_json(&dev, e, buf, sizeof(buf));
		publish_state(m, topic, buf, len);
	}
}

/* ---- metrics ---- */

static void publish_metrics(PacerMqtt *m, const PacerMetricsSnapshot *s, const PacerCoachStatus *st)
{
	char buf[PACER_MQTT_PAYLOAD_MAX];
	int len = pacer_mqtt_metrics_json(s, st, m->rr, m->n_rr, buf, sizeof(buf));
	Msg *msg;

	m->n_rr = 0;
	if (len < 0) {
		g_debug("mqtt: a metrics message did not fit, not sent");
		return;
	}
	msg = msg_new(MSG_METRICS, m->topic_metrics, buf, (gsize)len, 0, FALSE);
	if (m->state == STATE_CONNECTED) {
		(void)send_msg(m, msg);
		msg_free(msg);
		return;
	}
	/* the broker is away: only the latest waits, and it is the first to go */
	g_clear_pointer(&m->metrics, msg_free);
	if (bounded(m) >= m->queue_size) {
		msg_free(msg);
		m->dropped_metrics++;
		note_drop(m);
		return;
	}
	m->metrics = msg;
}

/* ---- raw values ---- */

/*
 * Every value as it comes, decoded, QoS 0: sent at once on the raw link
 * (pacer-mqtt-raw.h), or through Paho while that one connects or where it
 * cannot serve (TLS, WebSockets); dropped and counted while the broker is
 * away. Live values are worth nothing later.
 */
static void on_value(const char *address, PacerSensorKind kind, uint16_t uuid16,
		     const PacerGattValue *value, gpointer user_data)
{
	PacerMqtt *m = user_data;
	MQTTAsync_responseOptions opts = MQTTAsync_responseOptions_initializer;
	MQTTAsync_message pm = MQTTAsync_message_initializer;
	char buf[PACER_MQTT_PAYLOAD_MAX];
	char topic_buf[256];
	g_autofree char *long_topic = NULL;
	const char *topic = topic_buf;
	gsize address_len, topic_len;
	PacerJson j;
	int len;

	if (m->closing)
		return;
	if (m->state != STATE_CONNECTED) {
		m->dropped_raw++;
		return;
	}
	/* base/raw/<address>, put together here: cheaper than looking it up */
	address_len = strlen(address);
	topic_len = m->raw_prefix_len + address_len;
	if (topic_len < sizeof(topic_buf)) {
		memcpy(topic_buf, m->raw_prefix, m->raw_prefix_len);
		memcpy(topic_buf + m->raw_prefix_len, address, address_len + 1);
	} else {
		topic = long_topic = g_strconcat(m->raw_prefix, address, NULL);
	}
	pacer_json_init(&j, buf, sizeof(buf));
	pacer_gatt_value_write_json(value, &j);
	len = pacer_json_finish(&j);
	if (len < 0) {
		g_debug("mqtt: a raw %04x value of %s did not fit, not sent", uuid16, address);
		m->dropped_raw++;
		return;
	}
	if (m->raw_link) {
		switch (pacer_mqtt_raw_publish(m->raw_link, topic, topic_len, buf, (gsize)len)) {
		case PACER_MQTT_RAW_SENT:
			return;
		case PACER_MQTT_RAW_DROPPED:
			m->dropped_raw++;
			return;
		case PACER_MQTT_RAW_NOT_CONNECTED:
			break; /* connecting, or refused: Paho takes it meanwhile */
		}
	}
	pm.payload = buf;
	pm.payloadlen = len;
	if (paho.send_message(m->client, topic, &pm, &opts) != MQTTASYNC_SUCCESS)
		m->dropped_raw++;
}

/* ---- ticks ---- */

static void on_tick(const PacerMetricsSnapshot *s, const PacerCoachStatus *st, gpointer user_data)
{
	PacerMqtt *m = user_data;

	if (m->closing)
		return;
	for (size_t i = 0; i < s->n_rr && m->n_rr < PACER_MQTT_MAX_RR; i++)
		m->rr[m->n_rr++] = s->rr_ms[i];
	update_workout(m, st, FALSE);
	update_sensors(m, FALSE);
	if (m->has_metrics_t && s->t_us >= m->last_metrics_us &&
	    s->t_us - m->last_metrics_us < m->interval_us)
		return;
	/* keep the cadence of the interval, unless pacerd fell far behind */
	if (m->has_metrics_t && s->t_us >= m->last_metrics_us &&
	    s->t_us - m->last_metrics_us < 2 * m->interval_us)
		m->last_metrics_us += m->interval_us;
	else
		m->last_metrics_us = s->t_us;
	m->has_metrics_t = TRUE;
	publish_metrics(m, s, st);
	if (m->state == STATE_CONNECTED &&
	    m->dropped_events + m->dropped_metrics != m->drops_published)
		publish_detail(m);
}

static void on_event(const PacerEvent *event, gpointer user_data)
{
	PacerMqtt *m = user_data;

	if (m->closing)
		return;
	if (event->type == PACER_EVENT_WORKOUT_STARTED) {
		char text[PACER_WORKOUT_MAX_TEXT + 1];

		g_clear_pointer(&m->workout_text, g_free);
		m->workout_gen++;
		if (pacer_mqtt_json_get_string(event->json, "workout", text, sizeof(text)) >= 0)
			m->workout_text = g_strdup(text);
	}
	enqueue(m, msg_new(MSG_EVENT, m->topic_event, event->json, event->json_len, 1, FALSE));
}

static void on_sensors_changed(gpointer user_data)
{
	PacerMqtt *m = user_data;

	if (!m->closing)
		update_sensors(m, FALSE);
}

/* ---- commands ---- */

static void reject(PacerMqtt *m, const char *verb, const char *reason, const char *message)
{
	PacerCoachStatus st;
	char buf[4096];
	int len;
	gint64 now = g_get_monotonic_time();

	pacer_coach_get_status(coach(m), &st);
	len = pacer_mqtt_rejected_json(verb, reason, message, &st, buf, sizeof(buf));
	/* a flood of bad commands must not flood the log: at most one line a second */
	if (now - m->last_reject_log >= REJECT_LOG_US) {
		g_autofree char *safe = g_utf8_make_valid(verb, MIN(strlen(verb), 64));

		g_message("mqtt: command '%s' rejected (%s): %s", safe, reason, message);
		m->last_reject_log = now;
	}
	if (len < 0)
		return;
	enqueue(m, msg_new(MSG_EVENT, m->topic_event, buf, (gsize)len, 1, FALSE));
}

static const char *daemon_reason(const GError *error)
{
	if (error->domain != PACER_DAEMON_ERROR)
		return "failed";
	switch ((PacerDaemonError)error->code) {
	case PACER_DAEMON_ERROR_INVALID_WORKOUT:
		return "invalid_workout";
	case PACER_DAEMON_ERROR_BUSY:
		return "busy";
	case PACER_DAEMON_ERROR_NOT_RUNNING:
		return "not_running";
	case PACER_DAEMON_ERROR_FAILED:
		break;
	}
	return "failed";
}

static gboolean run_command(PacerMqtt *m, PacerMqttVerb verb, const char *text, GError **error)
{
	switch (verb) {
	case PACER_MQTT_VERB_START:
		return pacer_daemon_start_workout(m->daemon, text, error);
	case PACER_MQTT_VERB_STOP:
		return pacer_daemon_stop_workout(m->daemon, error);
	case PACER_MQTT_VERB_LAP:
		return pacer_daemon_lap(m->daemon, error);
	case PACER_MQTT_VERB_PAUSE:
		return pacer_daemon_pause(m->daemon, error);
	case PACER_MQTT_VERB_RESUME:
		return pacer_daemon_resume(m->daemon, error);
	}
	g_set_error_literal(error, PACER_DAEMON_ERROR, PACER_DAEMON_ERROR_FAILED, "unknown command");
	return FALSE;
}

static const char *parse_error_message(int r)
{
	switch (r) {
	case -ENOENT:
		return "Unknown command: use start, stop, lap, pause or resume.";
	case -E2BIG:
		return "The payload is too large (at most 1024 octets).";
	case -EILSEQ:
		return "The workout must be UTF-8 text without control characters.";
	default:
		return "The command is not valid.";
	}
}

static void on_command(PacerMqtt *m, const char *verb, const Item *it)
{
	char text[PACER_MQTT_COMMAND_MAX + 1];
	g_autoptr(GError) error = NULL;
	PacerMqttVerb v;
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(it->payload, &len);
	int r;

	if (it->retained) {
		reject(m, verb, "retained", "A retained command is ignored: publish commands without "
					    "the retain flag.");
		return;
	}
	/* only the first PACER_MQTT_COMMAND_MAX + 1 octets were kept: enough to refuse more */
	r = pacer_mqtt_command_parse(verb, data, it->payload_len, &v, text, sizeof(text));
	if (r < 0) {
		reject(m, verb, pacer_mqtt_command_error_reason(r), parse_error_message(r));
		return;
	}
	if (!run_command(m, v, text, &error)) {
		reject(m, verb, daemon_reason(error), error->message);
		return;
	}
	g_message("mqtt: command '%s' done", pacer_mqtt_verb_to_string(v));
	update_workout_now(m, FALSE);
}

static void on_message(PacerMqtt *m, const Item *it)
{
	/* a topic with a NUL inside is no topic; the broker should never send one */
	if (!m->commands || strlen(it->text) != it->text_len ||
	    !g_str_has_prefix(it->text, m->cmd_prefix))
		return;
	on_command(m, it->text + strlen(m->cmd_prefix), it);
}

/* ---- the connection ---- */

static gboolean on_reconnect(gpointer user_data)
{
	PacerMqtt *m = user_data;

	m->reconnect_source = 0;
	start_connect(m);
	return G_SOURCE_REMOVE;
}

static void schedule_reconnect(PacerMqtt *m)
{
	if (m->closing || m->reconnect_source)
		return;
	m->reconnect_source = g_timeout_add(m->backoff_ms, on_reconnect, m);
	m->backoff_ms = MIN(m->backoff_ms * 2, RECONNECT_MAX_MS);
}

/* The connection is gone: what was in flight goes back to the front, in order. */
static void connection_down(PacerMqtt *m)
{
	Msg *msg;

	m->state = STATE_DISCONNECTED;
	if (m->raw_link)
		pacer_mqtt_raw_set_allowed(m->raw_link, FALSE);
	while ((msg = g_queue_pop_tail(&m->inflight))) {
		if (++msg->attempts >= MAX_ATTEMPTS && msg->failed) {
			g_warning("mqtt: a message on '%s' failed %u times, dropped", msg->topic,
				  msg->attempts);
			m->dropped_events++;
			msg_free(msg);
			continue;
		}
		requeue_front(m, msg);
	}
	while (m->n_events > m->queue_size && drop_oldest_event(m))
		;
	schedule_reconnect(m);
}

static void subscribe_commands(PacerMqtt *m)
{
	MQTTAsync_responseOptions opts = MQTTAsync_responseOptions_initializer;
	g_autofree char *topic = g_strconcat(m->cmd_prefix, "#", NULL);
	int rc;

	opts.onFailure = on_subscribe_failure;
	opts.context = m->link;
	rc = paho.subscribe(m->client, topic, 1, &opts);
	if (rc != MQTTASYNC_SUCCESS)
		g_warning("mqtt: cannot subscribe to '%s' (Paho error %d): commands are ignored", topic,
			  rc);
}

/*
 * Paho leaves Nagle's algorithm on: a small QoS 0 message written while a
 * QoS 1 message waits for the broker's (delayed) ACK sits in the kernel for
 * up to 40 ms. Paho does not hand out its socket, so after connecting we
 * switch Nagle off on our TCP sockets: pacerd's other TCP connection, the
 * raw link, wants it off as well.
 */
static void no_delay(void)
{
	g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
	const char *name;

	while (dir && (name = g_dir_read_name(dir))) {
		int fd = atoi(name), type = 0, proto = 0, one = 1;
		socklen_t len = sizeof(type), plen = sizeof(proto);

		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM &&
		    getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &plen) == 0 &&
		    proto == IPPROTO_TCP &&
		    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
			g_debug("mqtt: TCP_NODELAY on fd %d: %s", fd, g_strerror(errno));
	}
}

static void on_connected(PacerMqtt *m)
{
	guint64 drops = m->dropped_events + m->dropped_metrics;

	if (m->state != STATE_CONNECTING)
		return;
	m->connects++;
	m->backoff_ms = RECONNECT_MIN_MS;
	g_clear_pointer(&m->last_failure, g_free);
	g_clear_pointer(&m->tls_error, g_free);
	g_message("mqtt: connected to '%s' as '%s', %u messages to send", m->uri, m->client_id,
		  queued(m));
	if (drops != m->drops_at_connect)
		g_warning("mqtt: %" G_GUINT64_FORMAT " messages were dropped while the broker was "
			  "away (%" G_GUINT64_FORMAT " events, %" G_GUINT64_FORMAT " metrics in all)",
			  drops - m->drops_at_connect, m->dropped_events, m->dropped_metrics);
	m->drops_at_connect = drops;
	m->drop_warned = FALSE;
	no_delay();
	if (m->commands)
		subscribe_commands(m);
	/*
	 * Online first, then what a late subscriber must find retained; queued
	 * before anything is sent, so that the newest state of each topic goes.
	 */
	forget_state(m, m->topic_status);
	requeue_front(m, msg_new(MSG_STATE, m->topic_status, "online", 6, 1, TRUE));
	announce_ha(m);
	publish_detail(m);
	update_workout_now(m, TRUE);
	update_sensors(m, TRUE);
	m->state = STATE_CONNECTED;
	if (m->raw_link)
		pacer_mqtt_raw_set_allowed(m->raw_link, TRUE);
	pump(m);
}

/*
 * One log line per kind of failure, until a connection succeeds. The kinds:
 * each refusal by the broker (CONNACK), and everything below MQTT (no route,
 * refused, TLS) as one: Paho words the same failure differently from one
 * attempt to the next.
 */
static void on_connect_failed(PacerMqtt *m, const Item *it)
{
	static const char *const refusals[] = {
		NULL,
		"the broker refused the protocol version",
		"the broker refused the client id",
		"the broker is unavailable",
		"bad user name or password (check username and password_file)",
		"not authorised (check username and password_file)",
	};
	g_autofree char *what = NULL;
	g_autofree char *kind = NULL;

	if (m->state != STATE_CONNECTING)
		return;
	m->state = STATE_DISCONNECTED;
	if (it->code >= 1 && it->code < (int)G_N_ELEMENTS(refusals)) {
		kind = g_strdup_printf("refused %d", it->code);
		what = g_strdup(refusals[it->code]);
	} else {
		kind = g_strdup("transport");
		if (m->tls_error)
			what = g_strdup_printf("TLS: %s", m->tls_error);
		else
			what = g_strdup_printf("%s (Paho error %d)%s",
					       it->text ? it->text : "cannot reach the broker",
					       it->code,
					       m->tls ? "; with TLS, check ca_file, and cert_file and "
							"key_file if the broker wants a client certificate"
						      : "");
	}
	g_clear_pointer(&m->tls_error, g_free);
	if (g_strcmp0(kind, m->last_failure) != 0) {
		g_warning("mqtt: cannot connect to '%s': %s; retrying every 1 s up to 30 s (logged "
			  "again when the kind of failure changes)",
			  m->uri, what);
		g_free(m->last_failure);
		m->last_failure = g_steal_pointer(&kind);
	} else {
		g_debug("mqtt: cannot connect to '%s': %s", m->uri, what);
	}
	schedule_reconnect(m);
}

static void on_lost(PacerMqtt *m, const Item *it)
{
	if (m->state != STATE_CONNECTED)
		return;
	g_warning("mqtt: lost the connection to '%s'%s%s; reconnecting, %u messages wait", m->uri,
		  it->text ? ": " : "", it->text ? it->text : "", queued(m) + m->inflight.length);
	connection_down(m);
}

static Msg *find_inflight(PacerMqtt *m, int token, GList **ret_link)
{
	for (GList *l = m->inflight.head; l; l = l->next) {
		Msg *msg = l->data;

		if (msg->token == token) {
			*ret_link = l;
			return msg;
		}
	}
	return NULL;
}

static void on_delivered(PacerMqtt *m, int token)
{
	GList *l = NULL;
	Msg *msg;

	if (m->state != STATE_CONNECTED)
		return; /* from a connection that is gone: its messages were queued again */
	msg = find_inflight(m, token, &l);
	if (!msg)
		return;
	g_queue_delete_link(&m->inflight, l);
	msg_free(msg);
	pump(m);
}

static void on_send_failed(PacerMqtt *m, const Item *it)
{
	GList *l = NULL;
	Msg *msg;

	if (m->state != STATE_CONNECTED)
		return;
	msg = find_inflight(m, it->token, &l);
	if (!msg)
		return;
	/*
	 * A QoS 1 publish fails when its connection fails (Paho says so before
	 * it reports the loss): start over on a new one.
	 */
	msg->failed = TRUE;
	g_warning("mqtt: lost the connection to '%s': a publish failed (Paho error %d); "
		  "reconnecting, %u messages wait",
		  m->uri, it->code, queued(m) + m->inflight.length);
	force_disconnect(m);
	connection_down(m);
}

/*
 * OpenSSL's error line, "<thread>:error:<code>:<library>:<function>:<reason>:<file>:<line>:",
 * reduced to its reason: the same failure then reads the same each time.
 */
static char *tls_reason(const char *line)
{
	g_auto(GStrv) fields = g_strsplit(line ? line : "", ":", 8);

	if (g_strv_length(fields) >= 6 && g_str_equal(fields[1], "error"))
		return g_strstrip(g_strdup(fields[5]));
	return g_strstrip(g_strdup(line ? line : "unknown error"));
}

static void handle_item(PacerMqtt *m, Item *it)
{
	switch (it->type) {
	case ITEM_CONNECTED:
		on_connected(m);
		break;
	case ITEM_CONNECT_FAILED:
		on_connect_failed(m, it);
		break;
	case ITEM_LOST:
		on_lost(m, it);
		break;
	case ITEM_DELIVERED:
		on_delivered(m, it->token);
		break;
	case ITEM_SEND_FAILED:
		on_send_failed(m, it);
		break;
	case ITEM_MESSAGE:
		if (!m->closing)
			on_message(m, it);
		break;
	case ITEM_SUBSCRIBE_FAILED:
		g_warning("mqtt: cannot subscribe to the command topics (%s, Paho error %d): "
			  "commands are ignored until the next connection",
			  it->text ? it->text : "refused", it->code);
		break;
	case ITEM_DISCONNECTED:
		m->disconnected = TRUE;
		break;
	case ITEM_TLS_ERROR:
		g_free(m->tls_error);
		m->tls_error = tls_reason(it->text);
		break;
	}
}

static void start_connect(PacerMqtt *m)
{
	MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
	int rc;

	o.keepAliveInterval = KEEPALIVE_S;
	o.cleansession = 1;
	o.connectTimeout = CONNECT_TIMEOUT_S;
	o.MQTTVersion = MQTTVERSION_3_1_1;
	o.automaticReconnect = 0; /* ours runs on the main loop, see schedule_reconnect() */
	o.onSuccess = on_connect_success;
	o.onFailure = on_connect_failure;
	o.context = m->link;
	will.topicName = m->topic_status;
	will.message = "offline";
	will.retained = 1;
	will.qos = 1;
	o.will = &will;
	o.username = m->username;
	o.password = m->username ? m->password : NULL;
	if (m->tls) {
		ssl.trustStore = m->ca_file; /* NULL: the system's CAs */
		ssl.keyStore = m->cert_file;
		ssl.privateKey = m->key_file;
		ssl.enableServerCertAuth = 1;
		ssl.verify = 1; /* the certificate must name the host */
		ssl.ssl_error_cb = on_tls_error;
		ssl.ssl_error_context = m->link;
		o.ssl = &ssl;
	}
	m->state = STATE_CONNECTING;
	rc = paho.connect(m->client, &o);
	if (rc != MQTTASYNC_SUCCESS) {
		Item it = {.type = ITEM_CONNECT_FAILED, .code = rc, .text = (char *)"cannot start"};

		on_connect_failed(m, &it);
	}
}

/* ---- life cycle ---- */

/* Paho's scheme names: mqtt:// and mqtts:// are tcp:// and ssl://. */
static char *paho_uri(const char *uri, gboolean *ret_tls)
{
	*ret_tls = g_str_has_prefix(uri, "ssl://") || g_str_has_prefix(uri, "wss://") ||
		   g_str_has_prefix(uri, "mqtts://");
	if (g_str_has_prefix(uri, "mqtt://"))
		return g_strconcat("tcp://", uri + strlen("mqtt://"), NULL);
	if (g_str_has_prefix(uri, "mqtts://"))
		return g_strconcat("ssl://", uri + strlen("mqtts://"), NULL);
	return g_strdup(uri);
}

/* The first line of password_file; NULL (logged once) when it cannot be read. */
static char *read_password(const char *path)
{
	g_autofree char *text = NULL;
	g_autoptr(GError) error = NULL;
	char *nl;

	if (!g_file_get_contents(path, &text, NULL, &error)) {
		g_warning("mqtt: cannot read password_file: %s; connecting without a password",
			  error->message);
		return NULL;
	}
	nl = strpbrk(text, "\r\n");
	if (nl)
		*nl = '\0';
	return g_steal_pointer(&text);
}

static void copy_config(PacerMqtt *m, const PacerConfig *c)
{
	m->uri = g_strdup(c->mqtt.uri);
	m->node = g_strdup(c->mqtt.node);
	m->base = g_strdup_printf("%s/%s", c->mqtt.base_topic, c->mqtt.node);
	m->raw_prefix = g_strconcat(m->base, "/raw/", NULL);
	m->raw_prefix_len = strlen(m->raw_prefix);
	m->client_id = g_strdup_printf("pacer-%s", c->mqtt.node);
	m->ha_prefix = g_strdup(c->mqtt.ha_prefix);
	m->username = g_strdup(c->mqtt.username);
	if (c->mqtt.password_file)
		m->password = read_password(c->mqtt.password_file);
	if (m->password && !m->username)
		g_warning("mqtt: password_file without username: the password is not used");
	m->ca_file = g_strdup(c->mqtt.ca_file);
	m->cert_file = g_strdup(c->mqtt.cert_file);
	m->key_file = g_strdup(c->mqtt.key_file);
	m->ha_discovery = c->mqtt.ha_discovery;
	m->commands = c->mqtt.commands;
	m->raw = c->mqtt.raw;
	m->interval_us = (guint64)(c->mqtt.interval_s * G_USEC_PER_SEC);
	m->queue_size = (guint)MAX(c->mqtt.queue_size, 1);
	m->topic_status = g_strdup_printf("%s/status", m->base);
	m->topic_detail = g_strdup_printf("%s/status/detail", m->base);
	m->topic_metrics = g_strdup_printf("%s/metrics", m->base);
	m->topic_event = g_strdup_printf("%s/event", m->base);
	m->topic_workout = g_strdup_printf("%s/workout", m->base);
	m->cmd_prefix = g_strdup_printf("%s/cmd/", m->base);
}

/* Raw values' own connection where it can serve the broker; Paho elsewhere. */
static void start_raw_link(PacerMqtt *m)
{
	g_autofree char *client_id = g_strconcat(m->client_id, "-raw", NULL);
	g_autoptr(GError) error = NULL;

	if (!pacer_mqtt_raw_supports_uri(m->uri)) {
		g_message("mqtt: raw values go through the MQTT library on '%s': their own "
			  "connection serves tcp:// and mqtt:// only",
			  m->uri);
		return;
	}
	m->raw_link = pacer_mqtt_raw_new(m->uri, client_id, m->username, m->password, KEEPALIVE_S,
					 &error);
	if (!m->raw_link)
		g_warning("%s; raw values go through the MQTT library", error->message);
}

PacerMqtt *pacer_mqtt_new(PacerDaemon *daemon, GError **error)
{
	g_autoptr(PacerMqtt) m = g_new0(PacerMqtt, 1);
	g_autofree char *uri = NULL;
	int rc;

	m->daemon = daemon;
	m->backoff_ms = RECONNECT_MIN_MS;
	m->queued_states = g_hash_table_new(g_str_hash, g_str_equal);
	g_queue_init(&m->queue);
	g_queue_init(&m->inflight);
	m->link = g_atomic_rc_box_new0(Link);
	m->link->context = g_main_context_ref_thread_default();
	m->link->items = g_async_queue_new_full(item_free);
	m->link->mqtt = m;
	copy_config(m, pacer_daemon_get_config(daemon));
	uri = paho_uri(m->uri, &m->tls);
	if (!paho_load(m->tls, error))
		return NULL;
	rc = paho.create(&m->client, uri, m->client_id, MQTTCLIENT_PERSISTENCE_NONE, NULL);
	if (rc != MQTTASYNC_SUCCESS) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "[mqtt] uri '%s': the MQTT library refuses it (Paho error %d)", m->uri, rc);
		return NULL;
	}
	rc = paho.set_callbacks(m->client, m->link, on_connection_lost, on_message_arrived, NULL);
	if (rc != MQTTASYNC_SUCCESS) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "mqtt: cannot set the MQTT callbacks (Paho error %d)", rc);
		return NULL;
	}
	if (m->raw)
		start_raw_link(m);
	pacer_daemon_add_event_sink(daemon, on_event, m);
	pacer_daemon_add_tick_sink(daemon, on_tick, m);
	pacer_daemon_add_sensors_sink(daemon, on_sensors_changed, m);
	if (m->raw)
		pacer_daemon_add_value_sink(daemon, on_value, m);
	g_message("mqtt: publishing under '%s/' to '%s'%s%s", m->base, m->uri,
		  m->commands ? ", commands on" : "", m->raw ? ", raw values on" : "");
	start_connect(m);
	return g_steal_pointer(&m);
}

static gboolean flushed(PacerMqtt *m)
{
	return m->state != STATE_CONNECTED ||
	       (g_queue_is_empty(&m->queue) && g_queue_is_empty(&m->inflight));
}

static gboolean disconnected(PacerMqtt *m)
{
	return m->disconnected;
}

/* Handles Paho's news right here (the main loop has stopped) until done() or the deadline. */
static void drain_until(PacerMqtt *m, gint64 deadline, gboolean (*done)(PacerMqtt *))
{
	while (!done(m)) {
		gint64 left = deadline - g_get_monotonic_time();
		Item *it;

		if (left <= 0)
			return;
		it = g_async_queue_timeout_pop(m->link->items, (guint64)left);
		if (!it)
			return;
		handle_item(m, it);
		item_free(it);
	}
}

/* The last states, "offline", and a clean disconnect (no last will then). */
static void say_goodbye(PacerMqtt *m)
{
	MQTTAsync_disconnectOptions opts = MQTTAsync_disconnectOptions_initializer;
	gint64 start = g_get_monotonic_time();

	update_workout_now(m, FALSE);
	update_sensors(m, FALSE);
	enqueue(m, msg_new(MSG_STATE, m->topic_status, "offline", 7, 1, TRUE));
	drain_until(m, start + FLUSH_MS * 1000, flushed);
	if (m->state != STATE_CONNECTED)
		return;
	if (!g_queue_is_empty(&m->queue) || !g_queue_is_empty(&m->inflight))
		g_warning("mqtt: %u messages not sent before exit",
			  m->queue.length + m->inflight.length);
	opts.timeout = DISCONNECT_MS;
	opts.onSuccess = on_disconnect_success;
	opts.onFailure = on_disconnect_failure;
	opts.context = m->link;
	if (paho.disconnect(m->client, &opts) == MQTTASYNC_SUCCESS)
		drain_until(m, g_get_monotonic_time() + (DISCONNECT_MS + 500) * 1000, disconnected);
}

void pacer_mqtt_free(PacerMqtt *m)
{
	if (!m)
		return;
	m->closing = TRUE;
	g_clear_handle_id(&m->reconnect_source, g_source_remove);
	g_clear_pointer(&m->raw_link, pacer_mqtt_raw_free);
	if (m->client && m->state == STATE_CONNECTED)
		say_goodbye(m);
	else if (m->client && queued(m) > 0)
		g_warning("mqtt: %u messages not sent: the broker is away", queued(m));
	if (m->client)
		paho.destroy(&m->client);
	if (m->link) {
		Item *it;

		m->link->mqtt = NULL;
		while ((it = g_async_queue_try_pop(m->link->items)))
			item_free(it);
		g_clear_pointer(&m->link, link_unref);
	}
	g_queue_clear_full(&m->queue, msg_free);
	g_queue_clear_full(&m->inflight, msg_free);
	g_clear_pointer(&m->metrics, msg_free);
	g_clear_pointer(&m->queued_states, g_hash_table_unref);
	g_free(m->raw_prefix);
	g_free(m->uri);
	g_free(m->client_id);
	g_free(m->node);
	g_free(m->base);
	g_free(m->ha_prefix);
	g_free(m->username);
	if (m->password)
		memset(m->password, 0, strlen(m->password));
	g_free(m->password);
	g_free(m->ca_file);
	g_free(m->cert_file);
	g_free(m->key_file);
	g_free(m->topic_status);
	g_free(m->topic_detail);
	g_free(m->topic_metrics);
	g_free(m->topic_event);
	g_free(m->topic_workout);
	g_free(m->cmd_prefix);
	g_free(m->last_failure);
	g_free(m->tls_error);
	g_free(m->workout_text);
	g_free(m);
}
