/*-------------------------------------------------------------------------
 *
 * known_sizes.c
 *		  The sizes of keys that this backend has seen, for row estimates.
 *
 * The API states how many records a key has (in the member of a chunk or
 * page that the catalog names) in the first response of every scan, and a
 * count from the totals asks for nothing else.
 * Remembering these totals lets the planner estimate a later scan of the
 * same key by its real size instead of the catalog's fixed rows_per_key, so
 * that a join puts a small customer on the side where small belongs.
 *
 * The memory is local to the backend and bounded: at most KNOWN_SIZES_MAX
 * entries, the least recently used one evicted for a new one, and a size
 * older than KNOWN_SIZES_TRUST_MINUTES is not trusted (the customer may
 * have grown since) and is forgotten when next looked up.  Sizes are only
 * estimates: results never depend on them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/ilist.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "subscriber_fdw.h"

/* Entries kept at most, and how long a remembered size is trusted. */
#define KNOWN_SIZES_MAX				1024
#define KNOWN_SIZES_TRUST_MINUTES	10

/* Longest key remembered; longer keys are estimated from the catalog. */
#define KNOWN_SIZE_KEY_LEN			64

typedef struct KnownSizeKey
{
	Oid			serverid;
	const SfResource *resource; /* an entry of the static catalog */
	char		key[KNOWN_SIZE_KEY_LEN];
} KnownSizeKey;

typedef struct KnownSize
{
	KnownSizeKey hashkey;		/* must be first */
	int64		records;
	TimestampTz seen;
	dlist_node	lru;			/* most recently used first */
} KnownSize;

static HTAB *known_sizes = NULL;
static dlist_head known_sizes_lru = DLIST_STATIC_INIT(known_sizes_lru);

/* Fills the hash key; false when the key is too long to be remembered. */
static bool
make_key(KnownSizeKey *hashkey, Oid serverid, const SfResource *resource,
		 const char *key)
{
	size_t		len = strlen(key);

	if (len >= KNOWN_SIZE_KEY_LEN)
		return false;
	/* the whole struct is hashed and compared: no stray padding bytes */
	memset(hashkey, 0, sizeof(KnownSizeKey));
	hashkey->serverid = serverid;
	hashkey->resource = resource;
	memcpy(hashkey->key, key, len);
	return true;
}

/* Made on first remember, so a backend that never scans has no table. */
static void
create_table(void)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(KnownSizeKey);
	ctl.entrysize = sizeof(KnownSize);
	known_sizes = hash_create("subscriber_fdw known sizes", KNOWN_SIZES_MAX,
							  &ctl, HASH_ELEM | HASH_BLOBS);
}

/* Forgets an entry. */
static void
forget(KnownSize *entry)
{
	dlist_delete(&entry->lru);
	hash_search(known_sizes, &entry->hashkey, HASH_REMOVE, NULL);
}

/*
 * Remembers that a key of a resource on a server has this many records,
 * evicting the least recently used entry when the table is full.
 */
void
sf_known_size_remember(Oid serverid, const SfResource *resource,
					   const char *key, int64 records)
{
	KnownSizeKey hashkey;
	KnownSize  *entry;
	bool		found;

	if (records < 0 || !make_key(&hashkey, serverid, resource, key))
		return;
	if (known_sizes == NULL)
		create_table();

	entry = hash_search(known_sizes, &hashkey, HASH_FIND, NULL);
	if (entry == NULL && hash_get_num_entries(known_sizes) >= KNOWN_SIZES_MAX)
		forget(dlist_container(KnownSize, lru, dlist_tail_node(&known_sizes_lru)));
	entry = hash_search(known_sizes, &hashkey, HASH_ENTER, &found);
	if (found)
		dlist_delete(&entry->lru);
	entry->records = records;
	entry->seen = GetCurrentTimestamp();
	dlist_push_head(&known_sizes_lru, &entry->lru);
}

/*
 * The remembered size of a key, if one was seen within the trust time.
 * A size too old to trust is forgotten.
 */
bool
sf_known_size_lookup(Oid serverid, const SfResource *resource,
					 const char *key, int64 *records)
{
	KnownSizeKey hashkey;
	KnownSize  *entry;

	if (known_sizes == NULL || !make_key(&hashkey, serverid, resource, key))
		return false;
	entry = hash_search(known_sizes, &hashkey, HASH_FIND, NULL);
	if (entry == NULL)
		return false;
	if (TimestampDifferenceExceeds(entry->seen, GetCurrentTimestamp(),
								   KNOWN_SIZES_TRUST_MINUTES * 60 * 1000))
	{
		forget(entry);
		return false;
	}
	dlist_move_head(&known_sizes_lru, &entry->lru);
	*records = entry->records;
	return true;
}
