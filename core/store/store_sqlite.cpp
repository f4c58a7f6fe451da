// A small RAII layer over the sqlite3 C API: SQLite errors in kvtier's words, statements,
// connections (core/store/store_sql.hpp).
#include "core/store/store_sql.hpp"

#include "core/model/error.hpp"
#include "core/model/text.hpp"

#include <cstring>

namespace kvtier::store {

// SQLite's own message, fit for one line: it may quote a damaged schema from the file
// itself, newlines and all, at any length.
std::string sqliteMessage(sqlite3* db)
{
    return db ? excerpt(sqlite3_errmsg(db), 160) : std::string("out of memory");
}

[[noreturn]] void fail(sqlite3* db, const std::string& path, const std::string& what)
{
    const int code = db ? sqlite3_errcode(db) : SQLITE_ERROR;
    if (code == SQLITE_NOTADB) throw InputError(path, "not a SQLite database");
    if (code == SQLITE_CORRUPT) throw InputError(path, "the database file is corrupt (" + sqliteMessage(db) + ")");
    if (code == SQLITE_READONLY) throw InputError(path, "cannot write: the database is read-only (" + sqliteMessage(db) + ")");
    if (code == SQLITE_BUSY) throw InputError(path, "the database is locked by another program");
    if (code == SQLITE_FULL) throw InputError(path, "cannot write: the disk is full");
    if (code == SQLITE_IOERR) {
        // The operating system's reason ("No space left on device", "File too large") says
        // more than SQLite's "disk I/O error".
        const int err = sqlite3_system_errno(db);
        throw InputError(path, std::string("input/output error: ") + (err ? std::string(std::strerror(err)) : sqliteMessage(db)));
    }
    throw InputError(path, what + ": " + sqliteMessage(db));
}

void exec(sqlite3* db, const std::string& path, const char* sql)
{
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(db, path, sql);
}

void openConnection(Connection& c, const std::string& path, int flags, const std::string& file)
{
    if (sqlite3_open_v2(file.empty() ? path.c_str() : file.c_str(), &c.db, flags, nullptr) != SQLITE_OK)
        throw InputError(path, std::string("cannot open: ") + sqliteMessage(c.db));
    sqlite3_busy_timeout(c.db, 5000);
    exec(c.db, path, "PRAGMA foreign_keys = ON");
}

} // namespace kvtier::store
