/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-mqtt-raw.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <gio/gio.h>

#include "pacer-mqtt-wire.h"

#define DEFAULT_PORT 1883
#define OUT_SIZE (64 * 1024)
#define CONNECT_TIMEOUT_S 10
#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 30000
#define TOPIC_MAX 1024 /* a longer topic is not sent this way */

typedef enum {
	RAW_OFF,	/* the main connection is down: no link, no attempt */
	RAW_IDLE,	/* may connect, with the next value (not before retry_at) */
	RAW_CONNECTING, /* TCP */
	RAW_HANDSHAKE,	/* CONNECT sent, CONNACK awaited */
	RAW_CONNECTED,
} RawState;

/*
 * One connection attempt, as its callback sees it: the callback checks the
 * cancellable before it touches `raw`, which may be gone by then.
 */
typedef struct {
	PacerMqttRaw *raw;
	GCancellable *cancellable;
} Attempt;

struct _PacerMqttRaw {
	char *uri;	     /* as configured, for the log */
	char *host_and_port; /* the URI without its scheme and path */
	char *client_id;
	char *username;
	char *password;
	guint16 keepalive_s;

	RawState state;
	GSocketClient *client;
	Attempt *attempt;
	GSocketConnection *connection;
	GSocket *socket;
	GSource *in_source;  /* CONNACK, then the broker closing */
	GSource *out_source; /* while `out` holds what the socket did not take */
	guint timeout_source; /* until CONNACK */

	/* whole packets; out[0, out_sent) are written: the first packet is being written */
	guint8 *out;
	gsize out_len, out_sent;
	guint8 in[PACER_MQTT_WIRE_CONNACK_SIZE];
	gsize in_len;

	gint64 last_send_us;
	gint64 retry_at_us;
	guint backoff_ms;
	char *pending_kind, *pending_what; /* the last failure, logged with the next attempt */
	char *logged_kind;		   /* the kind of failure last logged, until a link works */
	gboolean ever_connected;
	guint64 lost;
};

static void close_link(PacerMqttRaw *raw, gboolean goodbye);

/* ---- the URI ---- */

static const char *after_scheme(const char *uri)
{
	static const char *const schemes[] = {"tcp://", "mqtt://"};

	for (gsize i = 0; i < G_N_ELEMENTS(schemes); i++) {
		if (g_str_has_prefix(uri, schemes[i]))
			return uri + strlen(schemes[i]);
	}
	return NULL;
}

gboolean pacer_mqtt_raw_supports_uri(const char *uri)
{
	return uri && after_scheme(uri);
}

/* ---- failures ---- */

/* The link failed: closed now, tried again with a value after the backoff, logged then. */
static void fail(PacerMqttRaw *raw, const char *kind, const char *what)
{
	close_link(raw, FALSE);
	raw->state = RAW_IDLE;
	raw->retry_at_us = g_get_monotonic_time() + (gint64)raw->backoff_ms * 1000;
	raw->backoff_ms = MIN(raw->backoff_ms * 2, RETRY_MAX_MS);
	g_free(raw->pending_kind);
	g_free(raw->pending_what);
	raw->pending_kind = g_strdup(kind);
	raw->pending_what = g_strdup(what);
	g_debug("mqtt: raw link to '%s': %s", raw->uri, what);
}

/*
 * Logs the failure that ended the last attempt, once per kind until a link
 * works: the main connection outlived it, so it was the raw link's own.
 */
static void report_failure(PacerMqttRaw *raw)
{
	if (!raw->pending_kind)
		return;
	if (g_strcmp0(raw->pending_kind, raw->logged_kind) != 0) {
		g_warning("mqtt: raw values: their own connection to '%s' as '%s' failed: %s; they go "
			  "through the main connection meanwhile, retrying after 1 s up to 30 s (logged "
			  "again when the kind of failure changes)",
			  raw->uri, raw->client_id, raw->pending_what);
		g_free(raw->logged_kind);
		raw->logged_kind = g_steal_pointer(&raw->pending_kind);
	}
	g_clear_pointer(&raw->pending_kind, g_free);
	g_clear_pointer(&raw->pending_what, g_free);
}

/* ---- writing ---- */

/* Drops the packets written whole from the front of `out`; the first left is being written. */
static void compact(PacerMqttRaw *raw)
{
	gsize done = 0;

	while (done < raw->out_sent) {
		guint8 first;
		guint32 remaining;
		gsize header_len;

		/* `out` holds only whole packets of our own making: this cannot fail */
		if (pacer_mqtt_wire_read_fixed_header(raw->out + done, raw->out_len - done, &first,
						      &remaining, &header_len) < 0 ||
		    done + header_len + remaining > raw->out_sent)
			break;
		done += header_len + remaining;
	}
	memmove(raw->out, raw->out + done, raw->out_len - done);
	raw->out_len -= done;
	raw->out_sent -= done;
}

/* The PUBLISH packets in `out` that were not written whole. */
static guint count_unsent_values(PacerMqttRaw *raw)
{
	gsize pos = 0;
	guint n = 0;

	compact(raw);
	while (pos < raw->out_len) {
		guint8 first;
		guint32 remaining;
		gsize header_len;

		if (pacer_mqtt_wire_read_fixed_header(raw->out + pos, raw->out_len - pos, &first,
						      &remaining, &header_len) < 0)
			break;
		if (first >> 4 == PACER_MQTT_PACKET_PUBLISH)
			n++;
		pos += header_len + remaining;
	}
	return n;
}

/*
 * One sendmsg on the socket, without waiting (the hot path: plain syscalls,
 * not GSocket's checks). OK with *written; WOULD_BLOCK; or FAILED with
 * *err set to the errno.
 */
static GPollableReturn send_now(PacerMqttRaw *raw, struct iovec *v, size_t n, gsize *written,
				int *err)
{
	struct msghdr msg = {.msg_iov = v, .msg_iovlen = n};
	ssize_t r;

	do
		r = sendmsg(g_socket_get_fd(raw->socket), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r >= 0) {
		*written = (gsize)r;
		return G_POLLABLE_RETURN_OK;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return G_POLLABLE_RETURN_WOULD_BLOCK;
	*err = errno;
	return G_POLLABLE_RETURN_FAILED;
}

/* Writes what `out` holds, as far as the socket takes it now. */
static GPollableReturn write_out(PacerMqttRaw *raw, int *err)
{
	while (raw->out_sent < raw->out_len) {
		struct iovec v = {raw->out + raw->out_sent, raw->out_len - raw->out_sent};
		gsize written = 0;
		GPollableReturn r = send_now(raw, &v, 1, &written, err);

		if (r != G_POLLABLE_RETURN_OK)
			return r;
		raw->out_sent += written;
	}
	raw->out_len = raw->out_sent = 0;
	return G_POLLABLE_RETURN_OK;
}

static void fail_to_send(PacerMqttRaw *raw, int err)
{
	g_autofree char *what = g_strdup_printf("cannot send: %s", g_strerror(err));

	fail(raw, "transport", what);
}

static gboolean on_writable(GSocket *socket, GIOCondition condition, gpointer user_data);

/* Writes `out`; watches for room while something is left. FALSE: the link failed. */
static gboolean flush(PacerMqttRaw *raw)
{
	int err = 0;
	GPollableReturn r = write_out(raw, &err);

	if (r == G_POLLABLE_RETURN_FAILED) {
		fail_to_send(raw, err);
		return FALSE;
	}
	if (raw->out_len == 0) {
		if (raw->out_source) {
			g_source_destroy(raw->out_source);
			g_clear_pointer(&raw->out_source, g_source_unref);
		}
		return TRUE;
	}
	compact(raw);
	if (!raw->out_source) {
		raw->out_source = g_socket_create_source(raw->socket, G_IO_OUT, NULL);
		g_source_set_callback(raw->out_source, G_SOURCE_FUNC(on_writable), raw, NULL);
		g_source_attach(raw->out_source, NULL);
	}
	return TRUE;
}

static gboolean on_writable(GSocket *socket, GIOCondition condition, gpointer user_data)
{
	PacerMqttRaw *raw = user_data;

	/* flush() removes this source when `out` is empty or the link fails */
	(void)flush(raw);
	return G_SOURCE_CONTINUE;
}

/* Appends a whole packet to `out`, in two parts; FALSE when it does not fit. */
static gboolean append(PacerMqttRaw *raw, const void *a, gsize a_len, const void *b, gsize b_len)
{
	if (a_len + b_len > OUT_SIZE - raw->out_len)
		return FALSE;
	memcpy(raw->out + raw->out_len, a, a_len);
	if (b_len > 0)
		memcpy(raw->out + raw->out_len + a_len, b, b_len);
	raw->out_len += a_len + b_len;
	return TRUE;
}

/* ---- closing ---- */

static void attempt_free(Attempt *attempt)
{
	g_object_unref(attempt->cancellable);
	g_free(attempt);
}

static void destroy_source(GSource **source)
{
	if (!*source)
		return;
	g_source_destroy(*source);
	g_clear_pointer(source, g_source_unref);
}

/* Closes the link, with DISCONNECT first if `goodbye` and connected; counts what was lost. */
static void close_link(PacerMqttRaw *raw, gboolean goodbye)
{
	guint8 disconnect[PACER_MQTT_WIRE_DISCONNECT_SIZE];
	int n, err;

	if (raw->attempt) {
		g_cancellable_cancel(raw->attempt->cancellable);
		raw->attempt = NULL; /* its callback frees it */
	}
	g_clear_handle_id(&raw->timeout_source, g_source_remove);
	destroy_source(&raw->in_source);
	destroy_source(&raw->out_source);
	if (raw->socket && raw->state == RAW_CONNECTED && goodbye) {
		n = pacer_mqtt_wire_write_disconnect(disconnect, sizeof(disconnect));
		/* one last try, without waiting: whatever the socket takes now */
		if (n > 0 && append(raw, disconnect, (gsize)n, NULL, 0))
			(void)write_out(raw, &err);
	}
	if (raw->socket) {
		raw->lost += count_unsent_values(raw);
		(void)g_socket_close(raw->socket, NULL);
	}
	raw->socket = NULL;
	g_clear_object(&raw->connection);
	raw->out_len = raw->out_sent = 0;
	raw->in_len = 0;
}

/* ---- connecting ---- */

static gboolean on_connect_timeout(gpointer user_data)
{
	PacerMqttRaw *raw = user_data;
	g_autofree char *what =
		g_strdup_printf("no answer from the broker within %d s", CONNECT_TIMEOUT_S);

	raw->timeout_source = 0;
	fail(raw, "timeout", what);
	return G_SOURCE_REMOVE;
}

static void on_connack(PacerMqttRaw *raw)
{
	PacerMqttConnackCode code;
	int r = pacer_mqtt_wire_read_connack(raw->in, raw->in_len, &code, NULL);

	if (r == -EAGAIN)
		return;
	if (r < 0) {
		fail(raw, "protocol", "the broker's answer is not a CONNACK");
		return;
	}
	if (code != PACER_MQTT_CONNACK_ACCEPTED) {
		g_autofree char *kind = g_strdup_printf("refused %d", (int)code);
		g_autofree char *what =
			g_strdup_printf("the broker refused it: %s%s",
					pacer_mqtt_connack_code_to_string(code),
					code == PACER_MQTT_CONNACK_REFUSED_IDENTIFIER
						? " (the client id, or a keepalive the broker does not allow)"
						: "");

		fail(raw, kind, what);
		return;
	}
	g_clear_handle_id(&raw->timeout_source, g_source_remove);
	raw->state = RAW_CONNECTED;
	raw->backoff_ms = RETRY_MIN_MS;
	raw->last_send_us = g_get_monotonic_time();
	if (!raw->ever_connected || raw->logged_kind)
		g_message("mqtt: raw values go on their own connection to '%s' as '%s'%s", raw->uri,
			  raw->client_id, raw->logged_kind ? " again" : "");
	else
		g_debug("mqtt: raw link to '%s' connected", raw->uri);
	raw->ever_connected = TRUE;
	g_clear_pointer(&raw->logged_kind, g_free);
}

/* The broker closed the link: after a keepalive without values it may; else a failure. */
static void on_closed(PacerMqttRaw *raw, const char *what)
{
	gint64 quiet_us = g_get_monotonic_time() - raw->last_send_us;

	if (raw->state == RAW_CONNECTED && raw->keepalive_s > 0 &&
	    quiet_us >= (gint64)raw->keepalive_s * G_USEC_PER_SEC) {
		g_debug("mqtt: raw link to '%s' closed after %" G_GINT64_FORMAT " s without values; "
			"opened again with the next one",
			raw->uri, quiet_us / G_USEC_PER_SEC);
		close_link(raw, FALSE);
		raw->state = RAW_IDLE;
		raw->retry_at_us = 0;
		return;
	}
	fail(raw, raw->state == RAW_CONNECTED ? "closed" : "closed before CONNACK", what);
}

static gboolean on_readable(GSocket *socket, GIOCondition condition, gpointer user_data)
{
	PacerMqttRaw *raw = user_data;
	g_autoptr(GError) error = NULL;
	guint8 junk[256];
	guint8 *buf = junk;
	gsize cap = sizeof(junk);
	gssize n;

	/* during the handshake, CONNACK and not an octet more: what follows is not ours to read */
	if (raw->state == RAW_HANDSHAKE) {
		buf = raw->in + raw->in_len;
		cap = sizeof(raw->in) - raw->in_len;
	}
	n = g_socket_receive_with_blocking(socket, (gchar *)buf, cap, FALSE, NULL, &error);
	if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
		return G_SOURCE_CONTINUE;
	if (n < 0) {
		g_autofree char *what = g_strdup_printf("cannot receive: %s", error->message);

		on_closed(raw, what);
		return G_SOURCE_REMOVE;
	}
	if (n == 0) {
		on_closed(raw, raw->state == RAW_HANDSHAKE
				       ? "the broker closed the connection before answering"
				       : "the broker closed the connection");
		return G_SOURCE_REMOVE;
	}
	if (raw->state == RAW_HANDSHAKE) {
		raw->in_len += (gsize)n;
		on_connack(raw);
		return raw->in_source ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
	}
	/* MQTT 3.1.1 brokers send nothing to a client that neither subscribes nor pings */
	g_debug("mqtt: raw link to '%s': %" G_GSSIZE_FORMAT " unexpected octets ignored", raw->uri, n);
	return G_SOURCE_CONTINUE;
}

static gboolean send_connect(PacerMqttRaw *raw)
{
	PacerMqttConnect c = {.client_id = raw->client_id,
			      .username = raw->username,
			      .password = raw->username ? raw->password : NULL,
			      .keepalive_s = raw->keepalive_s};
	/* the first packet of the link: `out` is empty */
	int n = pacer_mqtt_wire_write_connect(&c, raw->out, OUT_SIZE);

	if (n < 0) {
		/* pacer_mqtt_raw_new() checked the fields; only their sum can be too large */
		fail(raw, "connect", "the client id, user name and password do not fit in 64 KiB");
		return FALSE;
	}
	raw->out_len = (gsize)n;
	if (!flush(raw))
		return FALSE;
	if (raw->out_len == 0)
		memset(raw->out, 0, (gsize)n); /* the password */
	return TRUE;
}

static void on_tcp_connected(GObject *source, GAsyncResult *result, gpointer user_data)
{
	Attempt *attempt = user_data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocketConnection) connection =
		g_socket_client_connect_to_host_finish(G_SOCKET_CLIENT(source), result, &error);
	PacerMqttRaw *raw;

	if (g_cancellable_is_cancelled(attempt->cancellable)) {
		attempt_free(attempt);
		return;
	}
	raw = attempt->raw;
	raw->attempt = NULL;
	attempt_free(attempt);
	if (!connection) {
		fail(raw, "transport", error->message);
		return;
	}
	raw->connection = g_steal_pointer(&connection);
	raw->socket = g_socket_connection_get_socket(raw->connection);
	g_socket_set_blocking(raw->socket, FALSE);
	/* a value is one small packet: send it now, not with the next one */
	if (!g_socket_set_option(raw->socket, IPPROTO_TCP, TCP_NODELAY, 1, &error))
		g_debug("mqtt: raw link: TCP_NODELAY: %s, ignored", error->message);
	raw->state = RAW_HANDSHAKE;
	raw->in_source = g_socket_create_source(raw->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
	g_source_set_callback(raw->in_source, G_SOURCE_FUNC(on_readable), raw, NULL);
	g_source_attach(raw->in_source, NULL);
	(void)send_connect(raw);
}

static void start_connect(PacerMqttRaw *raw)
{
	Attempt *attempt = g_new0(Attempt, 1);

	report_failure(raw);
	attempt->raw = raw;
	attempt->cancellable = g_cancellable_new();
	raw->attempt = attempt;
	raw->state = RAW_CONNECTING;
	raw->timeout_source = g_timeout_add_seconds(CONNECT_TIMEOUT_S, on_connect_timeout, raw);
	g_socket_client_connect_to_host_async(raw->client, raw->host_and_port, DEFAULT_PORT,
					      attempt->cancellable, on_tcp_connected, attempt);
}

/* ---- the interface ---- */

PacerMqttRaw *pacer_mqtt_raw_new(const char *uri, const char *client_id, const char *username,
				 const char *password, guint16 keepalive_s, GError **error)
{
	g_autoptr(PacerMqttRaw) raw = NULL;
	PacerMqttConnect c = {.client_id = client_id, .username = username,
			      .password = username ? password : NULL, .keepalive_s = keepalive_s};
	const char *rest = uri ? after_scheme(uri) : NULL;
	guint8 probe[1];

	g_return_val_if_fail(client_id, NULL);
	if (!rest) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
			    "mqtt: the raw link serves tcp:// and mqtt:// only, not '%s'", uri);
		return NULL;
	}
	/* a buffer of one octet: only -EINVAL matters here, -ENOBUFS says the fields are fine */
	if (pacer_mqtt_wire_write_connect(&c, probe, sizeof(probe)) == -EINVAL) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
			    "mqtt: the client id '%s' or the user name cannot be sent", client_id);
		return NULL;
	}
	raw = g_new0(PacerMqttRaw, 1);
	raw->uri = g_strdup(uri);
	raw->host_and_port = g_strndup(rest, strcspn(rest, "/"));
	raw->client_id = g_strdup(client_id);
	raw->username = g_strdup(username);
	raw->password = g_strdup(password);
	raw->keepalive_s = keepalive_s;
	raw->backoff_ms = RETRY_MIN_MS;
	raw->out = g_malloc(OUT_SIZE);
	raw->client = g_socket_client_new();
	/* as Paho: straight to the broker, whatever the environment says about proxies */
	g_socket_client_set_enable_proxy(raw->client, FALSE);
	return g_steal_pointer(&raw);
}

void pacer_mqtt_raw_set_allowed(PacerMqttRaw *raw, gboolean allowed)
{
	g_return_if_fail(raw);
	if (allowed) {
		if (raw->state == RAW_OFF) {
			raw->state = RAW_IDLE;
			raw->retry_at_us = 0;
		}
		return;
	}
	if (raw->pending_kind)
		g_debug("mqtt: raw link: '%s' not logged: the main connection is down as well",
			raw->pending_what);
	g_clear_pointer(&raw->pending_kind, g_free);
	g_clear_pointer(&raw->pending_what, g_free);
	close_link(raw, TRUE);
	raw->state = RAW_OFF;
}

PacerMqttRawResult pacer_mqtt_raw_publish(PacerMqttRaw *raw, const char *topic, gsize topic_len,
					  const void *payload, gsize payload_len)
{
	guint8 header[PACER_MQTT_WIRE_FIXED_HEADER_MAX + 2 + TOPIC_MAX];
	struct iovec v[2];
	gsize written = 0, total;
	GPollableReturn r;
	int n, err = 0;

	if (raw->state != RAW_CONNECTED) {
		if (raw->state == RAW_IDLE && g_get_monotonic_time() >= raw->retry_at_us)
			start_connect(raw);
		return PACER_MQTT_RAW_NOT_CONNECTED;
	}
	n = pacer_mqtt_wire_write_publish_header(topic, topic_len, payload_len, header,
						 sizeof(header));
	if (n < 0)
		return PACER_MQTT_RAW_DROPPED;
	total = (gsize)n + payload_len;
	if (total > OUT_SIZE)
		return PACER_MQTT_RAW_DROPPED; /* could not wait in the buffer if the socket is full */
	raw->last_send_us = g_get_monotonic_time();
	if (raw->out_len > 0) {
		/* behind what waits: on_writable() sends it in order */
		return append(raw, header, (gsize)n, payload, payload_len) ? PACER_MQTT_RAW_SENT
									   : PACER_MQTT_RAW_DROPPED;
	}
	v[0] = (struct iovec){header, (gsize)n};
	v[1] = (struct iovec){(void *)payload, payload_len};
	r = send_now(raw, v, 2, &written, &err);
	if (r == G_POLLABLE_RETURN_OK && written == total)
		return PACER_MQTT_RAW_SENT;
	if (r == G_POLLABLE_RETURN_FAILED) {
		fail_to_send(raw, err);
		return PACER_MQTT_RAW_NOT_CONNECTED;
	}
	/* partly written, or not at all: the whole packet waits, its start marked written */
	(void)append(raw, header, (gsize)n, payload, payload_len);
	raw->out_sent = r == G_POLLABLE_RETURN_OK ? written : 0;
	(void)flush(raw);
	return PACER_MQTT_RAW_SENT;
}

guint64 pacer_mqtt_raw_get_lost(const PacerMqttRaw *raw)
{
	return raw ? raw->lost : 0;
}

void pacer_mqtt_raw_free(PacerMqttRaw *raw)
{
	if (!raw)
		return;
	close_link(raw, TRUE);
	g_clear_object(&raw->client);
	g_free(raw->out);
	g_free(raw->uri);
	g_free(raw->host_and_port);
	g_free(raw->client_id);
	g_free(raw->username);
	if (raw->password)
		memset(raw->password, 0, strlen(raw->password));
	g_free(raw->password);
	g_free(raw->pending_kind);
	g_free(raw->pending_what);
	g_free(raw->logged_kind);
	g_free(raw);
}
