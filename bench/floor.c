/*
 * bench/floor.c: the physical floor of a subscriber_details scan.
 *
 * Fetches the chunks of one customer exactly as subscriber_fdw does (the
 * point-in-time protocol of POST /api/v2/customer/{id}/subscriber-all-details:
 * {"pitId":"","pitKeepAlive":5,"size":N} first, then {"pitId":"<latest>",
 * "size":N}; done when the records received reach totalRecordAmount or a
 * chunk is empty), over one keep-alive connection with HTTP Basic auth, with
 * libcurl alone, and optionally parses every record, with no PostgreSQL.
 *
 * A fetcher thread requests the next chunk as soon as the current one has
 * arrived (as the extension does) and hands complete bodies to the main
 * thread, which parses them; so the wall-clock rate of a parsing mode is the
 * best a pipelined fetch-then-parse can do on this machine, and the parser's
 * own CPU time gives the parse-only rate beside it.
 *
 * Modes:
 *   fetch         libcurl only; records counted by "recordAmount"
 *   scan          + the structural scan that finds each record's bytes
 *                 (what count(*) needs at least)
 *   jsonc-record  + json_tokener_parse_ex of each record on its own, with the
 *                 extension's flags (STRICT, VALIDATE_UTF8), every field
 *                 touched  -- floor (a)
 *   jsonc-chunk   json_tokener_parse_ex of the whole body, then every record
 *                 and field touched  -- floor (b)
 *   pg-record     PostgreSQL's pg_parse_json (frontend libpgcommon) with
 *                 semantic actions over each record's bytes, de-escaped
 *                 strings, every field touched  -- floor (c)
 *   pg-chunk      the same over the whole body in one pass
 *
 * Usage: floor MODE BASE_URL CUSTOMER_ID FETCH_SIZE [USER:PASSWORD]
 * Prints one line of key=value figures.
 *
 * Build (bench/run.sh does this):
 *   gcc -O2 -o floor bench/floor.c -lcurl -ljson-c -lpthread
 *   with pg modes: add -DWITH_PG_JSON -I$(pg_config --includedir-server)
 *     -L$(pg_config --libdir) -lpgcommon -lpgport -lm
 */
#ifdef WITH_PG_JSON
#include "postgres_fe.h"
#include "common/jsonapi.h"
#include "mb/pg_wchar.h"
#endif

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#define MAX_DEPTH 64
#define QUEUE_DEPTH 1			/* complete chunks waiting to be parsed */

typedef struct Chunk
{
	char	   *data;
	size_t		len;
	long		records;		/* recordAmount */
} Chunk;

typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} Buf;

static const char *g_mode;
static const char *g_base_url;
static const char *g_customer;
static int	g_fetch_size;
static const char *g_userpwd = "sim:sim-secret";

/* queue from the fetcher to the parser */
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static Chunk q_items[QUEUE_DEPTH];
static int	q_count;
static int	q_done;

/* fetcher's figures */
static long f_requests;
static double f_bytes;
static double f_cpu;
static char f_error[512];

static double
now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *msg)
{
	fprintf(stderr, "floor: %s\n", msg);
	exit(1);
}

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	Buf		   *b = arg;
	size_t		n = size * nmemb;

	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 1 << 20;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = realloc(b->data, cap);
		if (b->data == NULL)
			die("out of memory");
		b->cap = cap;
	}
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/*
 * Finds a top-level member of the envelope near the end of the body (the
 * simulator and the API put pitId, recordAmount and totalRecordAmount after
 * the records; no record has members of those names).  Returns a pointer to
 * its value or NULL.
 */
static const char *
tail_member(const char *data, size_t len, const char *key)
{
	size_t		klen = strlen(key);
	const char *lo = len > 4096 ? data + len - 4096 : data;
	const char *p;

	for (p = data + len - klen; p >= lo; p--)
		if (*p == '"' && memcmp(p, key, klen) == 0)
		{
			p += klen;
			while (*p == ' ' || *p == ':')
				p++;
			return p;
		}
	return NULL;
}

static void
push(Chunk c)
{
	pthread_mutex_lock(&q_lock);
	while (q_count == QUEUE_DEPTH)
		pthread_cond_wait(&q_cond, &q_lock);
	q_items[q_count++] = c;
	pthread_cond_broadcast(&q_cond);
	pthread_mutex_unlock(&q_lock);
}

static int
pop(Chunk *c)
{
	int			got = 0;

	pthread_mutex_lock(&q_lock);
	while (q_count == 0 && !q_done)
		pthread_cond_wait(&q_cond, &q_lock);
	if (q_count > 0)
	{
		*c = q_items[0];
		memmove(q_items, q_items + 1, (q_count - 1) * sizeof(Chunk));
		q_count--;
		got = 1;
		pthread_cond_broadcast(&q_cond);
	}
	pthread_mutex_unlock(&q_lock);
	return got;
}

static void *
fetcher(void *arg)
{
	CURL	   *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char		url[2048];
	char		body[2048];
	char		pit[1024] = "";
	long		received = 0;
	double		cpu0 = now(CLOCK_THREAD_CPUTIME_ID);

	snprintf(url, sizeof(url), "%s/api/v2/customer/%s/subscriber-all-details",
			 g_base_url, g_customer);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
	curl_easy_setopt(h, CURLOPT_USERPWD, g_userpwd);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);

	for (;;)
	{
		Buf			b = {0};
		Chunk		c;
		long		status = 0;
		long		total;
		const char *v;
		CURLcode	rc;

		if (pit[0] == '\0')
			snprintf(body, sizeof(body),
					 "{\"pitId\":\"\",\"pitKeepAlive\":5,\"size\":%d}", g_fetch_size);
		else
			snprintf(body, sizeof(body), "{\"pitId\":%s,\"size\":%d}", pit, g_fetch_size);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
		rc = curl_easy_perform(h);
		f_requests++;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		if (rc != CURLE_OK || status != 200 || b.len == 0)
		{
			snprintf(f_error, sizeof(f_error), "request %ld: %s, HTTP %ld: %.200s",
					 f_requests, curl_easy_strerror(rc), status, b.data ? b.data : "");
			free(b.data);
			break;
		}
		f_bytes += b.len;

		/* envelope: pitId (kept as its raw JSON string), recordAmount, total */
		v = tail_member(b.data, b.len, "\"pitId\"");
		if (v == NULL || *v != '"')
		{
			snprintf(f_error, sizeof(f_error), "request %ld: no pitId", f_requests);
			free(b.data);
			break;
		}
		{
			const char *e = v + 1;
			size_t		n;

			while (*e && *e != '"')
				e += (*e == '\\') ? 2 : 1;
			n = e + 1 - v;
			if (n >= sizeof(pit))
				die("pitId too long");
			memcpy(pit, v, n);
			pit[n] = '\0';
		}
		v = tail_member(b.data, b.len, "\"recordAmount\"");
		c.records = v ? strtol(v, NULL, 10) : 0;
		v = tail_member(b.data, b.len, "\"totalRecordAmount\"");
		total = v ? strtol(v, NULL, 10) : 0;
		received += c.records;
		c.data = b.data;
		c.len = b.len;
		push(c);
		if (c.records == 0 || received >= total)
			break;
	}
	f_cpu = now(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	pthread_mutex_lock(&q_lock);
	q_done = 1;
	pthread_cond_broadcast(&q_cond);
	pthread_mutex_unlock(&q_lock);
	return NULL;
}

/* ---------------- structural scan (as src/json.c) ---------------- */

static inline const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static const char *
skip_value(const char *p, const char *end)
{
	char		stack[MAX_DEPTH];
	int			depth = 0;

	p = skip_ws(p, end);
	for (;;)
	{
		if (p >= end)
			return NULL;
		switch (*p)
		{
			case '"':
				for (p++; p < end; p++)
				{
					if (*p == '\\')
						p++;
					else if (*p == '"')
						break;
				}
				if (p >= end)
					return NULL;
				p++;
				break;
			case '{':
			case '[':
				if (depth == MAX_DEPTH)
					return NULL;
				stack[depth++] = *p++;
				break;
			case '}':
			case ']':
				if (depth == 0 || stack[depth - 1] != (*p == '}' ? '{' : '['))
					return NULL;
				depth--;
				p++;
				break;
			default:
				if (depth == 0)
				{
					const char *start = p;

					while (p < end && strchr(",:]} \t\r\n", *p) == NULL)
						p++;
					return p == start ? NULL : p;
				}
				p++;
				break;
		}
		if (depth == 0)
			return p;
	}
}

/* Calls fn on each record's bytes in the body's "content" array. */
typedef uint64_t (*record_fn) (const char *p, size_t len);

static long
for_each_record(const Chunk *c, record_fn fn, uint64_t *acc)
{
	const char *end = c->data + c->len;
	const char *p = skip_ws(c->data, end);
	long		n = 0;

	/* walk the envelope's top-level members until "content" */
	if (p >= end || *p != '{')
		die("body is not an object");
	p++;
	for (;;)
	{
		const char *k = skip_ws(p, end);
		const char *ke = skip_value(k, end);
		const char *v;

		if (ke == NULL)
			die("bad envelope");
		v = skip_ws(ke, end);
		if (v >= end || *v != ':')
			die("bad envelope");
		v = skip_ws(v + 1, end);
		if (ke - k == 9 && memcmp(k, "\"content\"", 9) == 0)
		{
			p = v;
			break;
		}
		p = skip_value(v, end);
		if (p == NULL)
			die("bad envelope");
		p = skip_ws(p, end);
		if (p >= end || *p != ',')
			die("no content");
		p++;
	}
	if (*p != '[')
		die("content is not an array");
	p = skip_ws(p + 1, end);
	while (p < end && *p != ']')
	{
		const char *e = skip_value(p, end);

		if (e == NULL)
			die("bad record");
		if (fn)
			*acc += fn(p, e - p);
		n++;
		p = skip_ws(e, end);
		if (p < end && *p == ',')
			p = skip_ws(p + 1, end);
	}
	return n;
}

/* ---------------- json-c ---------------- */

static struct json_tokener *g_tok;

static uint64_t
touch(struct json_object *o)
{
	uint64_t	acc = 0;

	switch (json_object_get_type(o))
	{
		case json_type_null:
			return 1;
		case json_type_boolean:
			return json_object_get_boolean(o) ? 3 : 2;
		case json_type_int:
			return (uint64_t) json_object_get_int64(o);
		case json_type_double:
			return (uint64_t) (json_object_get_double(o) * 10);
		case json_type_string:
			return (uint64_t) json_object_get_string_len(o) +
				(unsigned char) json_object_get_string(o)[0];
		case json_type_array:
			{
				size_t		i,
							n = json_object_array_length(o);

				for (i = 0; i < n; i++)
					acc += touch(json_object_array_get_idx(o, i));
				return acc + n;
			}
		case json_type_object:
			{
				json_object_object_foreach(o, key, val)
				{
					acc += (unsigned char) key[0];
					acc += touch(val);
				}
				return acc;
			}
	}
	return acc;
}

static uint64_t
jsonc_record(const char *p, size_t len)
{
	struct json_object *o;
	uint64_t	acc;

	json_tokener_reset(g_tok);
	o = json_tokener_parse_ex(g_tok, p, (int) len);
	if (json_tokener_get_error(g_tok) != json_tokener_success ||
		(size_t) json_tokener_get_parse_end(g_tok) != len)
		die("json-c: bad record");
	acc = touch(o);
	json_object_put(o);
	return acc;
}

static long
jsonc_chunk(const Chunk *c, uint64_t *acc)
{
	struct json_object *o,
			   *content;
	size_t		i,
				n;

	json_tokener_reset(g_tok);
	o = json_tokener_parse_ex(g_tok, c->data, (int) c->len);
	if (json_tokener_get_error(g_tok) != json_tokener_success)
		die("json-c: bad body");
	if (!json_object_object_get_ex(o, "content", &content))
		die("json-c: no content");
	n = json_object_array_length(content);
	for (i = 0; i < n; i++)
		*acc += touch(json_object_array_get_idx(content, i));
	{
		struct json_object *pit;

		if (json_object_object_get_ex(o, "pitId", &pit))
			*acc += json_object_get_string_len(pit);
	}
	json_object_put(o);
	return (long) n;
}

/* ---------------- PostgreSQL's pg_parse_json ---------------- */

#ifdef WITH_PG_JSON
typedef struct PgState
{
	int			depth;
	long		records;		/* elements of the top-level "content" */
	int			in_content;
	uint64_t	acc;
} PgState;

static void
pg_obj_start(void *arg)
{
	((PgState *) arg)->depth++;
}

static void
pg_obj_end(void *arg)
{
	((PgState *) arg)->depth--;
}

static void
pg_field(void *arg, char *fname, bool isnull)
{
	PgState    *s = arg;

	if (s->depth == 1)
		s->in_content = strcmp(fname, "content") == 0;
	s->acc += (unsigned char) fname[0];
	pfree(fname);
}

static void
pg_elem(void *arg, bool isnull)
{
	PgState    *s = arg;

	/* an element of the top-level content array (depth counts objects) */
	if (s->depth == 1 && s->in_content)
		s->records++;
}

static void
pg_scalar(void *arg, char *token, JsonTokenType type)
{
	PgState    *s = arg;

	s->acc += strlen(token) + (unsigned char) token[0];
	pfree(token);
}

static JsonSemAction pg_sem = {
	.object_start = pg_obj_start,
	.object_end = pg_obj_end,
	.object_field_start = pg_field,
	.array_element_start = pg_elem,
	.scalar = pg_scalar,
};

static long
pg_parse(const char *p, size_t len, uint64_t *acc)
{
	PgState		s = {0};
	JsonSemAction sem = pg_sem;
	JsonLexContext *lex;
	JsonParseErrorType err;

	sem.semstate = &s;
	lex = makeJsonLexContextCstringLen((char *) p, (int) len, PG_UTF8, true);
	err = pg_parse_json(lex, &sem);
	if (err != JSON_SUCCESS)
		die("pg_parse_json: bad JSON");
	if (lex->strval)
	{
		pfree(lex->strval->data);
		pfree(lex->strval);
	}
	pfree(lex);
	*acc += s.acc;
	return s.records;
}

static uint64_t
pg_record(const char *p, size_t len)
{
	uint64_t	acc = 0;

	pg_parse(p, len, &acc);
	return acc;
}
#endif

/* ---------------- main ---------------- */

int
main(int argc, char **argv)
{
	pthread_t	th;
	Chunk		c;
	long		records = 0,
				counted = 0;
	uint64_t	acc = 0;
	double		t0,
				t1,
				parse_cpu = 0,
				parse_wall = 0;

	if (argc < 5)
	{
		fprintf(stderr, "usage: floor MODE BASE_URL CUSTOMER_ID FETCH_SIZE [USER:PASSWORD]\n"
				"modes: fetch scan jsonc-record jsonc-chunk pg-record pg-chunk\n");
		return 2;
	}
	g_mode = argv[1];
	g_base_url = argv[2];
	g_customer = argv[3];
	g_fetch_size = atoi(argv[4]);
	if (argc > 5)
		g_userpwd = argv[5];
#ifndef WITH_PG_JSON
	if (strncmp(g_mode, "pg-", 3) == 0)
		die("built without pg_parse_json (-DWITH_PG_JSON)");
#endif
	if (strcmp(g_mode, "fetch") && strcmp(g_mode, "scan") &&
		strcmp(g_mode, "jsonc-record") && strcmp(g_mode, "jsonc-chunk") &&
		strcmp(g_mode, "pg-record") && strcmp(g_mode, "pg-chunk"))
		die("unknown mode");

	curl_global_init(CURL_GLOBAL_DEFAULT);
	g_tok = json_tokener_new_ex(MAX_DEPTH);
	json_tokener_set_flags(g_tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);

	t0 = now(CLOCK_MONOTONIC);
	pthread_create(&th, NULL, fetcher, NULL);
	while (pop(&c))
	{
		double		c0 = now(CLOCK_THREAD_CPUTIME_ID);
		double		w0 = now(CLOCK_MONOTONIC);
		long		n = c.records;

		records += c.records;
		if (strcmp(g_mode, "scan") == 0)
			n = for_each_record(&c, NULL, &acc);
		else if (strcmp(g_mode, "jsonc-record") == 0)
			n = for_each_record(&c, jsonc_record, &acc);
		else if (strcmp(g_mode, "jsonc-chunk") == 0)
			n = jsonc_chunk(&c, &acc);
#ifdef WITH_PG_JSON
		else if (strcmp(g_mode, "pg-record") == 0)
			n = for_each_record(&c, pg_record, &acc);
		else if (strcmp(g_mode, "pg-chunk") == 0)
			n = pg_parse(c.data, c.len, &acc);
#endif
		counted += n;
		free(c.data);
		parse_cpu += now(CLOCK_THREAD_CPUTIME_ID) - c0;
		parse_wall += now(CLOCK_MONOTONIC) - w0;
	}
	pthread_join(th, NULL);
	t1 = now(CLOCK_MONOTONIC);
	if (f_error[0])
	{
		fprintf(stderr, "floor: %s\n", f_error);
		return 1;
	}
	if (counted != records)
	{
		fprintf(stderr, "floor: parsed %ld records, recordAmount says %ld\n", counted, records);
		return 1;
	}
	printf("mode=%s records=%ld requests=%ld bytes=%.0f wall_s=%.3f records_per_s=%.0f "
		   "mb_per_s=%.1f parse_cpu_s=%.3f parse_records_per_s=%.0f parse_mb_per_s=%.1f "
		   "fetch_cpu_s=%.3f checksum=%llu\n",
		   g_mode, records, f_requests, f_bytes, t1 - t0, records / (t1 - t0),
		   f_bytes / 1e6 / (t1 - t0), parse_cpu,
		   parse_cpu > 0 ? records / parse_cpu : 0,
		   parse_cpu > 0 ? f_bytes / 1e6 / parse_cpu : 0,
		   f_cpu, (unsigned long long) acc);
	json_tokener_free(g_tok);
	curl_global_cleanup();
	return 0;
}
