/* The areas of the indexed store (db.h): each one's tables and the import
 * of the files it kept before the database.  The store's own bookkeeping
 * comes first. */
#include "store/db.h"
#include "store/inquiries_int.h"

static const char *const inquiries_old[] = {"inquiries", NULL};
#include "store/pollstate_import.h"
#include "store/suppressions_int.h"

const struct db_area db_areas[] = {
    {.name = "store",
     .schema = "CREATE TABLE IF NOT EXISTS store_meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"},
    {.name = "inquiries",
     .schema = INQ_SCHEMA,
     .import = inquiries_import,
     .old_files = inquiries_old},
    {.name = "poll",
     .schema = pollstate_schema,
     .import = pollstate_import,
     .old_files = pollstate_old_files},
    {.name = "sup", .schema = SUP_SCHEMA, .import = sup_import, .old_files = sup_old_files},
};
const size_t db_area_count = sizeof db_areas / sizeof db_areas[0];
