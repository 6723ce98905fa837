/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pacer-gatt-json.h"

#include <stdbool.h>
#include <stdio.h>

#include "pacer-text.h"

static void write_hr(const PacerHrMeasurement *m, PacerJson *j)
{
	PACER_JSON_KEY_LITERAL(j, "hr_bpm");
	pacer_json_int(j, m->hr_bpm);
	PACER_JSON_KEY_LITERAL(j, "contact");
	pacer_json_string(j, pacer_hr_contact_to_string(m->contact));
	PACER_JSON_KEY_LITERAL(j, "energy_kj");
	if (m->has_energy)
		pacer_json_int(j, m->energy_kj);
	else
		pacer_json_null(j);
	PACER_JSON_KEY_LITERAL(j, "rr_ms");
	pacer_json_begin_array(j);
	for (size_t i = 0; i < m->n_rr; i++)
		pacer_json_double(j, pacer_hr_rr_to_ms(m->rr[i]));
	pacer_json_end_array(j);
}

static void write_rsc(const PacerRscMeasurement *m, PacerJson *j)
{
	PACER_JSON_KEY_LITERAL(j, "speed_mps");
	pacer_json_double(j, pacer_rsc_speed_mps(m));
	PACER_JSON_KEY_LITERAL(j, "cadence_raw");
	pacer_json_int(j, m->cadence_raw);
	PACER_JSON_KEY_LITERAL(j, "stride_m");
	if (m->has_stride)
		pacer_json_double(j, pacer_rsc_stride_m(m));
	else
		pacer_json_null(j);
	PACER_JSON_KEY_LITERAL(j, "distance_m");
	if (m->has_distance)
		pacer_json_double(j, pacer_rsc_distance_m(m));
	else
		pacer_json_null(j);
	PACER_JSON_KEY_LITERAL(j, "running");
	pacer_json_bool(j, m->running);
}

/* One treadmill key: the value when its field is present, else null. */
static void tm_number(PacerJson *j, const PacerTreadmillData *d, PacerTreadmillField field,
		      const char *key, double value)
{
	pacer_json_key(j, key);
	if (d->present & field)
		pacer_json_double(j, value);
	else
		pacer_json_null(j);
}

static void tm_pace(PacerJson *j, const PacerTreadmillData *d, PacerTreadmillField field,
		    const char *key, uint16_t raw)
{
	double pace = pacer_treadmill_pace_s_per_km(raw, d->pace_octets);

	pacer_json_key(j, key);
	if ((d->present & field) && pace > 0)
		pacer_json_double(j, pace);
	else
		pacer_json_null(j);
}

static void write_treadmill(const PacerTreadmillData *d, PacerJson *j)
{
	tm_number(j, d, PACER_TREADMILL_SPEED, "speed_kmh", pacer_treadmill_speed_kmh(d->speed_raw));
	tm_number(j, d, PACER_TREADMILL_AVG_SPEED, "avg_speed_kmh",
		  pacer_treadmill_speed_kmh(d->avg_speed_raw));
	tm_number(j, d, PACER_TREADMILL_DISTANCE, "distance_m", d->distance_m);
	tm_number(j, d, PACER_TREADMILL_INCLINE, "incline_pct", d->incline_raw / 10.0);
	tm_number(j, d, PACER_TREADMILL_RAMP, "ramp_deg", d->ramp_raw / 10.0);
	tm_number(j, d, PACER_TREADMILL_ELEVATION_GAIN, "elevation_gain_m",
		  d->elevation_gain_dm / 10.0);
	tm_number(j, d, PACER_TREADMILL_ELEVATION_LOSS, "elevation_loss_m",
		  d->elevation_loss_dm / 10.0);
	tm_pace(j, d, PACER_TREADMILL_PACE, "pace_s_per_km", d->pace_raw);
	tm_pace(j, d, PACER_TREADMILL_AVG_PACE, "avg_pace_s_per_km", d->avg_pace_raw);
	tm_number(j, d, PACER_TREADMILL_ENERGY_TOTAL, "energy_kcal", d->energy_total_kcal);
	tm_number(j, d, PACER_TREADMILL_ENERGY_PER_HOUR, "energy_kcal_per_h",
		  d->energy_per_hour_kcal);
	tm_number(j, d, PACER_TREADMILL_ENERGY_PER_MIN, "energy_kcal_per_min",
		  d->energy_per_min_kcal);
	tm_number(j, d, PACER_TREADMILL_HR, "hr_bpm", d->hr_bpm);
	tm_number(j, d, PACER_TREADMILL_MET, "met", d->met_raw / 10.0);
	tm_number(j, d, PACER_TREADMILL_ELAPSED, "elapsed_s", d->elapsed_s);
	tm_number(j, d, PACER_TREADMILL_REMAINING, "remaining_s", d->remaining_s);
	tm_number(j, d, PACER_TREADMILL_FORCE, "force_n", d->force_n);
	tm_number(j, d, PACER_TREADMILL_POWER, "power_w", d->power_w);
}

static void write_bits(PacerJson *j, uint32_t bits, unsigned n,
		       const char *(*name)(unsigned bit))
{
	for (unsigned bit = 0; bit < n; bit++) {
		pacer_json_key(j, name(bit));
		pacer_json_bool(j, (bits >> bit) & 1u);
	}
}

void pacer_gatt_value_write_json_members(const PacerGattValue *v, PacerJson *j)
{
	PACER_JSON_KEY_LITERAL(j, "type");
	pacer_json_string(j, pacer_gatt_kind_to_string(v->kind));
	switch (v->kind) {
	case PACER_GATT_HEART_RATE:
		write_hr(&v->hr, j);
		break;
	case PACER_GATT_BODY_SENSOR_LOCATION:
		PACER_JSON_KEY_LITERAL(j, "location");
		pacer_json_string(j, pacer_body_sensor_location_to_string(v->body_sensor_location));
		break;
	case PACER_GATT_RSC:
		write_rsc(&v->rsc, j);
		break;
	case PACER_GATT_RSC_FEATURE:
		write_bits(j, v->rsc_feature, PACER_RSC_FEATURE_N_BITS, pacer_rsc_feature_bit_name);
		break;
	case PACER_GATT_TREADMILL:
		write_treadmill(&v->treadmill, j);
		break;
	case PACER_GATT_FITNESS_MACHINE_FEATURE:
		write_bits(j, v->fitness_machine_feature.features, PACER_FTMS_FEATURE_N_BITS,
			   pacer_ftms_feature_bit_name);
		write_bits(j, v->fitness_machine_feature.targets, PACER_FTMS_TARGET_N_BITS,
			   pacer_ftms_target_bit_name);
		break;
	case PACER_GATT_BATTERY:
		PACER_JSON_KEY_LITERAL(j, "percent");
		pacer_json_int(j, v->battery_percent);
		break;
	}
}

void pacer_gatt_value_write_json(const PacerGattValue *v, PacerJson *j)
{
	pacer_json_begin_object(j);
	pacer_gatt_value_write_json_members(v, j);
	pacer_json_end_object(j);
}

static void line_pace(PacerText *b, double s_per_km)
{
	long s = (long)(s_per_km + 0.5);

	if (s_per_km <= 0 || s_per_km > 5999)
		pacer_text_add(b, " (no pace)");
	else
		pacer_text_add(b, " (%ld:%02ld /km)", s / 60, s % 60);
}

static void describe_hr(const PacerHrMeasurement *m, PacerText *b)
{
	pacer_text_add(b, "%u bpm, contact %s", m->hr_bpm, pacer_hr_contact_to_string(m->contact));
	if (m->has_energy)
		pacer_text_add(b, ", %u kJ", m->energy_kj);
	for (size_t i = 0; i < m->n_rr; i++)
		pacer_text_add(b, "%s%.1f", i == 0 ? ", RR ms " : " ", pacer_hr_rr_to_ms(m->rr[i]));
}

static void describe_rsc(const PacerRscMeasurement *m, PacerText *b)
{
	double v = pacer_rsc_speed_mps(m);

	pacer_text_add(b, "%.2f m/s", v);
	line_pace(b, v > 0 ? 1000.0 / v : 0);
	pacer_text_add(b, ", cadence %u/min (as sent)", m->cadence_raw);
	if (m->has_stride)
		pacer_text_add(b, ", stride %.2f m", pacer_rsc_stride_m(m));
	if (m->has_distance)
		pacer_text_add(b, ", total %.1f m", pacer_rsc_distance_m(m));
	pacer_text_add(b, ", %s", m->running ? "running" : "walking");
}

static void describe_treadmill(const PacerTreadmillData *d, PacerText *b)
{
	if (d->present & PACER_TREADMILL_SPEED) {
		double kmh = pacer_treadmill_speed_kmh(d->speed_raw);

		pacer_text_add(b, "%.2f km/h", kmh);
		line_pace(b, kmh > 0 ? 3600.0 / kmh : 0);
	} else {
		pacer_text_add(b, "(more data follows)");
	}
	if (d->present & PACER_TREADMILL_DISTANCE)
		pacer_text_add(b, ", %u m", d->distance_m);
	if (d->present & PACER_TREADMILL_INCLINE)
		pacer_text_add(b, ", incline %.1f %%", d->incline_raw / 10.0);
	if (d->present & PACER_TREADMILL_HR)
		pacer_text_add(b, ", %u bpm", d->hr_bpm);
	if (d->present & PACER_TREADMILL_ENERGY_TOTAL)
		pacer_text_add(b, ", %u kcal", d->energy_total_kcal);
	if (d->present & PACER_TREADMILL_ELAPSED)
		pacer_text_add(b, ", %u s elapsed", d->elapsed_s);
	if (d->ignored_octets > 0)
		pacer_text_add(b, ", %zu vendor octets ignored", d->ignored_octets);
}

static void describe_bits(PacerText *b, uint32_t bits, unsigned n, const char *(*name)(unsigned))
{
	bool any = false;

	for (unsigned bit = 0; bit < n; bit++) {
		if ((bits >> bit) & 1u) {
			pacer_text_add(b, "%s%s", any ? " " : "", name(bit));
			any = true;
		}
	}
	if (!any)
		pacer_text_add(b, "(none)");
}

void pacer_gatt_value_describe(const PacerGattValue *v, char *buf, size_t size)
{
	PacerText b = {.buf = buf, .size = size};

	if (size == 0)
		return;
	buf[0] = '\0';
	switch (v->kind) {
	case PACER_GATT_HEART_RATE:
		describe_hr(&v->hr, &b);
		break;
	case PACER_GATT_BODY_SENSOR_LOCATION:
		pacer_text_add(&b, "worn on: %s",
			 pacer_body_sensor_location_to_string(v->body_sensor_location));
		break;
	case PACER_GATT_RSC:
		describe_rsc(&v->rsc, &b);
		break;
	case PACER_GATT_RSC_FEATURE:
		pacer_text_add(&b, "supports: ");
		describe_bits(&b, v->rsc_feature, PACER_RSC_FEATURE_N_BITS,
			      pacer_rsc_feature_bit_name);
		break;
	case PACER_GATT_TREADMILL:
		describe_treadmill(&v->treadmill, &b);
		break;
	case PACER_GATT_FITNESS_MACHINE_FEATURE:
		pacer_text_add(&b, "supports: ");
		describe_bits(&b, v->fitness_machine_feature.features, PACER_FTMS_FEATURE_N_BITS,
			      pacer_ftms_feature_bit_name);
		pacer_text_add(&b, "; targets: ");
		describe_bits(&b, v->fitness_machine_feature.targets, PACER_FTMS_TARGET_N_BITS,
			      pacer_ftms_target_bit_name);
		break;
	case PACER_GATT_BATTERY:
		pacer_text_add(&b, "battery %u %%", v->battery_percent);
		break;
	}
}
