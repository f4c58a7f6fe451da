"""The kvtier trace database, written with Python's sqlite3 in exactly the core's schema
(core/store/store_schema.cpp, docs/TRACE_FORMAT.md section 1).

A capture builds its traces in a work file beside the output, `OUT.kvtier-capture`, and
commits every few decode steps there. The finished work file is linked into place as OUT
when OUT does not exist (never replacing a file), or its traces are copied into an
existing OUT in one transaction; either way OUT holds complete traces only, never half a
capture. An interrupted capture leaves the work file, and the same command resumes from its
last committed step."""
import fcntl
import json
import os
import sqlite3

from . import blob_codec
from .errors import CaptureError

SCHEMA_VERSION = 2
APPLICATION_ID = 0x4B565452   # "KVTR"
WORK_SUFFIX = ".kvtier-capture"
SETTINGS_KEY = "capture_settings"   # work file only; removed before the file becomes OUT

# Schema version 2, as core/store/store_schema.cpp leaves it (version 1 upgraded by
# upgradeToV2Sequences): S sequences per trace, P_s of each in trace_sequences.
SCHEMA_V2 = """
CREATE TABLE kvtier_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE traces (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE,
    description    TEXT NOT NULL DEFAULT '',
    source         TEXT NOT NULL DEFAULT '',
    model_name     TEXT NOT NULL DEFAULT '',
    head_reduction TEXT NOT NULL DEFAULT 'mean',
    notes          TEXT NOT NULL DEFAULT '',
    prefill        INTEGER NOT NULL CHECK (prefill >= 0),
    steps          INTEGER NOT NULL CHECK (steps >= 0),
    layers         INTEGER NOT NULL CHECK (layers >= 1),
    layer_mode     TEXT NOT NULL CHECK (layer_mode IN ('aggregated', 'per-layer')),
    kind           TEXT NOT NULL CHECK (kind IN ('scores', 'selection', 'ranked')),
    encoding       TEXT NOT NULL,
    entries        INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE TABLE records (
    trace_id INTEGER NOT NULL REFERENCES traces(id),
    step     INTEGER NOT NULL,
    sequence INTEGER NOT NULL DEFAULT 0,
    layer    INTEGER NOT NULL,
    encoding TEXT NOT NULL,
    count    INTEGER NOT NULL,
    data     BLOB NOT NULL,
    PRIMARY KEY (trace_id, step, sequence, layer)
) WITHOUT ROWID;
CREATE TABLE trace_sequences (
    trace_id INTEGER NOT NULL REFERENCES traces(id),
    sequence INTEGER NOT NULL CHECK (sequence >= 0),
    prefill  INTEGER NOT NULL CHECK (prefill >= 0),
    PRIMARY KEY (trace_id, sequence)
) WITHOUT ROWID;
"""

# Schema step 1 -> 2, as core/store/store_experts.cpp adds it: per-step MoE expert sets,
# written for a trace captured with a router hook (MODEL.md section 9).
SCHEMA_V2_EXPERTS = """
CREATE TABLE IF NOT EXISTS trace_experts (
    trace_id INTEGER PRIMARY KEY REFERENCES traces(id),
    experts  INTEGER NOT NULL CHECK (experts >= 1)
);
CREATE TABLE IF NOT EXISTS expert_sets (
    trace_id INTEGER NOT NULL REFERENCES traces(id),
    step     INTEGER NOT NULL,
    layer    INTEGER NOT NULL,
    data     BLOB NOT NULL,
    PRIMARY KEY (trace_id, step, layer)
) WITHOUT ROWID;
"""

TRACE_COLUMNS = ("name", "description", "source", "model_name", "head_reduction", "notes", "prefill",
                 "steps", "layers", "layer_mode", "kind", "encoding", "entries", "created_at")


def expert_blob(ids):
    """An expert set X[t][l] as core/store/store_experts.cpp stores it: the ids as
    little-endian u16, strictly ascending (docs/TRACE_FORMAT.md "Expert sets")."""
    ids = list(ids)
    if any(b <= a for a, b in zip(ids, ids[1:])) or any(not 0 <= e < 1 << 16 for e in ids):
        raise CaptureError(f"expert ids {ids} are not strictly ascending u16 values")
    return b"".join(e.to_bytes(2, "little") for e in ids)


def check_name(name):
    if not name:
        raise CaptureError("trace name is empty")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise CaptureError(f"trace name {name!r} contains a control character")


def _connect(path):
    try:
        db = sqlite3.connect(path, isolation_level=None, timeout=5.0)
        db.execute("PRAGMA application_id").fetchone()   # fails on a file that is not SQLite
        return db
    except sqlite3.DatabaseError as e:
        raise CaptureError(path, _sqlite_problem(e)) from None


def _sqlite_problem(e):
    text = str(e)
    if "not a database" in text:
        return "not a SQLite database"
    if "locked" in text:
        return "the database is locked by another program"
    if "disk is full" in text or "database or disk is full" in text:
        return "cannot write: the disk is full"
    return text


def check_kvtier(db, path):
    """Refuses a file kvtier would refuse (docs/TRACE_FORMAT.md "Identification and version")."""
    app = db.execute("PRAGMA application_id").fetchone()[0]
    if app not in (0, APPLICATION_ID):
        raise CaptureError(path, f"not a kvtier trace database (SQLite application id 0x{app & 0xFFFFFFFF:08X})")
    has_meta = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kvtier_meta'").fetchone()
    if not has_meta:
        raise CaptureError(path, "not a kvtier trace database")
    row = db.execute("SELECT value FROM kvtier_meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        raise CaptureError(path, "not a kvtier trace database (no schema_version in kvtier_meta)")
    if row[0] != str(SCHEMA_VERSION):
        raise CaptureError(path, f"schema version {row[0]}; this capture writes version {SCHEMA_VERSION} "
                                 "(open the file with kvtier-cli once to upgrade it, or use a new file)")


def existing_names(path):
    """Trace names in an existing kvtier database (to refuse clashes before any work)."""
    db = _connect(path)
    try:
        check_kvtier(db, path)
        return {r[0] for r in db.execute("SELECT name FROM traces")}
    finally:
        db.close()


class WorkFile:
    """The capture's work database. `settings` (a JSON-able dict) must match the one an
    interrupted capture left for it to be resumed."""

    def __init__(self, out, settings, restart=False):
        self.out = out
        self.path = out + WORK_SUFFIX
        self.settings = json.dumps(settings, sort_keys=True)
        self.lock = None
        self.db = None
        try:
            self._lock()
            if restart:
                self._remove()
                self._lock()
            fresh = os.fstat(self.lock).st_size == 0
            self.db = _connect(self.path)
            # Killed while creating the schema: a header and no tables (the transaction
            # never committed) is a fresh file too.
            fresh = fresh or self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
            if fresh:
                self._create()
            else:
                self._check_resumable()
        except BaseException:
            self.close()
            raise

    def _lock(self):
        """One capture per work file: an exclusive flock (independent of SQLite's own POSIX
        locks) held until the work file is gone."""
        if self.lock is not None:
            os.close(self.lock)
        self.lock = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise CaptureError(self.path, "another capture is writing it") from None

    def _create(self):
        db = self.db
        db.execute("PRAGMA journal_mode = WAL")
        # One transaction (executescript leaves the BEGIN open): a killed start leaves no
        # half schema that a later run would take for a work file.
        db.executescript("BEGIN IMMEDIATE;" + SCHEMA_V2 + SCHEMA_V2_EXPERTS)
        db.execute("INSERT INTO kvtier_meta(key, value) VALUES ('schema_version', ?), ('application', 'kvtier'), "
                   "(?, ?)", (str(SCHEMA_VERSION), SETTINGS_KEY, self.settings))
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")

    def _check_resumable(self):
        try:
            check_kvtier(self.db, self.path)
            row = self.db.execute("SELECT value FROM kvtier_meta WHERE key = ?", (SETTINGS_KEY,)).fetchone()
        except (CaptureError, sqlite3.DatabaseError):
            raise CaptureError(self.path, "not a capture work file; remove it or pass --restart") from None
        if row is None or row[0] != self.settings:
            raise CaptureError(self.path, "an interrupted capture with other settings; rerun that command to "
                                          "resume it, or pass --restart to discard it")

    def _remove(self):
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.remove(self.path + suffix)
            except FileNotFoundError:
                pass

    def resume_point(self, name, per_step, expert_layers, steps):
        """Steps already committed for trace `name` (0 when it was not started): `per_step`
        records (sequences x layer slots) and `expert_layers` expert sets (L, or 0) make a
        step. Rows of a step that is not complete are deleted (a commit holds whole steps,
        so normally there are none)."""
        row = self.db.execute("SELECT id FROM traces WHERE name = ?", (name,)).fetchone()
        if row is None:
            return 0
        count = self.db.execute("SELECT count(*) FROM records WHERE trace_id = ?", (row[0],)).fetchone()[0]
        sets = self.db.execute("SELECT count(*) FROM expert_sets WHERE trace_id = ?", (row[0],)).fetchone()[0]
        done = min(count // per_step, sets // expert_layers if expert_layers else steps, steps)
        if count != done * per_step or sets != done * expert_layers:
            self.db.execute("DELETE FROM records WHERE trace_id = ? AND step >= ?", (row[0], done))
            self.db.execute("DELETE FROM expert_sets WHERE trace_id = ? AND step >= ?", (row[0], done))
        return done

    def last_sets(self, trace_id, done, key_interval):
        """{(sequence, layer): ascending indices} of step done - 1 of an index_step_delta
        trace, decoded from its key records at or before it (what a resumed capture's delta
        encoder continues from); {} for other traces."""
        step = done - 1
        rows = self.db.execute("SELECT step, sequence, layer, encoding, count, data FROM records WHERE trace_id = ? "
                               "AND step BETWEEN ? AND ? ORDER BY step, sequence, layer",
                               (trace_id, step - step % key_interval, step)).fetchall()
        sets = {}
        for t, q, l, enc, count, blob in rows:
            # The work file holds what this capture wrote: n_t is not needed to decode it.
            if enc == blob_codec.STEP_DELTA:
                sets[(q, l)] = blob_codec.decode_step_delta(1 << 32, count, bytes(blob), sets[(q, l)])
            else:
                sets[(q, l)] = blob_codec.index_varint_set(count, bytes(blob))
        return sets

    def begin_trace(self, meta):
        """Inserts the trace row with its sequences (`sequence_prefill`: P_s of each) and,
        when `experts` E > 0, its trace_experts row, in one transaction (once; a resumed
        capture finds them). Returns the trace id."""
        row = self.db.execute("SELECT id FROM traces WHERE name = ?", (meta["name"],)).fetchone()
        if row is not None:
            return row[0]
        cols = [c for c in TRACE_COLUMNS if c in meta]
        db = self.db
        try:
            db.execute("BEGIN IMMEDIATE")
            trace_id = db.execute(f"INSERT INTO traces({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                                  [meta[c] for c in cols]).lastrowid
            db.executemany("INSERT INTO trace_sequences(trace_id, sequence, prefill) VALUES (?, ?, ?)",
                           [(trace_id, q, p) for q, p in enumerate(meta["sequence_prefill"])])
            if meta.get("experts"):
                db.execute("INSERT INTO trace_experts(trace_id, experts) VALUES (?, ?)", (trace_id, meta["experts"]))
            db.execute("COMMIT")
        except sqlite3.DatabaseError as e:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise CaptureError(self.path, _sqlite_problem(e)) from None
        return trace_id

    def commit_records(self, trace_id, records, expert_sets=()):
        """Stores the records (step, sequence, layer, encoding, count, blob, entries) and
        expert sets (step, layer, ascending ids) of whole steps, and adds the records'
        entries to the trace, in one transaction."""
        db = self.db
        try:
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT INTO records(trace_id, step, sequence, layer, encoding, count, data) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [(trace_id, t, q, l, e, c, b) for t, q, l, e, c, b, _ in records])
            db.executemany("INSERT INTO expert_sets(trace_id, step, layer, data) VALUES (?, ?, ?, ?)",
                           [(trace_id, t, l, expert_blob(ids)) for t, l, ids in expert_sets])
            db.execute("UPDATE traces SET entries = entries + ? WHERE id = ?",
                       (sum(r[6] for r in records), trace_id))
            db.execute("COMMIT")
        except sqlite3.DatabaseError as e:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise CaptureError(self.path, _sqlite_problem(e)) from None

    def finish(self, replace=False):
        """Makes the capture OUT: linked into place when OUT does not exist, else copied
        into OUT in one transaction. Returns the names of the traces written."""
        db = self.db
        db.execute("DELETE FROM kvtier_meta WHERE key = ?", (SETTINGS_KEY,))
        names = [r[0] for r in db.execute("SELECT name FROM traces ORDER BY id")]
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()   # the last connection merges the log into the file and removes it
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(self.path, self.out)   # never replaces a file
            os.remove(self.path)
            return names
        except FileExistsError:
            pass
        except OSError:
            # A file system without hard links: rename, unless OUT appeared meanwhile.
            if not os.path.exists(self.out):
                os.replace(self.path, self.out)
                return names
        self._copy_into_out(replace)
        self._remove()
        return names

    def _copy_into_out(self, replace):
        # The settings go back first: should the copy fail, the same command resumes (and
        # finds every step done) instead of refusing a work file without settings.
        work = _connect(self.path)
        try:
            work.execute("INSERT OR REPLACE INTO kvtier_meta(key, value) VALUES (?, ?)", (SETTINGS_KEY, self.settings))
        finally:
            work.close()
        out = _connect(self.out)
        try:
            check_kvtier(out, self.out)
            try:   # as the core: a reader holding the file in rollback mode only postpones the switch
                out.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError:
                pass
            out.execute("ATTACH DATABASE ? AS capture", (self.path,))
            out.execute("DELETE FROM capture.kvtier_meta WHERE key = ?", (SETTINGS_KEY,))
            out.execute("BEGIN IMMEDIATE")
            try:
                cols = ", ".join(TRACE_COLUMNS)
                for old_id, name in out.execute("SELECT id, name FROM capture.traces ORDER BY id").fetchall():
                    clash = out.execute("SELECT id FROM main.traces WHERE name = ?", (name,)).fetchone()
                    if clash and not replace:
                        raise CaptureError(self.out, f"trace '{name}' already exists (use --replace to overwrite it)")
                    if clash:   # as the core's --replace: the trace with its rows and expert sets
                        for table in ("records", "trace_sequences", "expert_sets", "trace_experts"):
                            out.execute(f"DELETE FROM main.{table} WHERE trace_id = ?", clash)
                        out.execute("DELETE FROM main.traces WHERE id = ?", clash)
                    new_id = out.execute(f"INSERT INTO main.traces({cols}) SELECT {cols} FROM capture.traces "
                                         "WHERE id = ?", (old_id,)).lastrowid
                    out.execute("INSERT INTO main.records(trace_id, step, sequence, layer, encoding, count, data) "
                                "SELECT ?, step, sequence, layer, encoding, count, data FROM capture.records "
                                "WHERE trace_id = ? ORDER BY step, sequence, layer", (new_id, old_id))
                    out.execute("INSERT INTO main.trace_sequences(trace_id, sequence, prefill) "
                                "SELECT ?, sequence, prefill FROM capture.trace_sequences WHERE trace_id = ?",
                                (new_id, old_id))
                    out.execute("INSERT INTO main.trace_experts(trace_id, experts) "
                                "SELECT ?, experts FROM capture.trace_experts WHERE trace_id = ?", (new_id, old_id))
                    out.execute("INSERT INTO main.expert_sets(trace_id, step, layer, data) "
                                "SELECT ?, step, layer, data FROM capture.expert_sets WHERE trace_id = ? "
                                "ORDER BY step, layer", (new_id, old_id))
                out.execute("COMMIT")
            except BaseException:
                out.execute("ROLLBACK")
                raise
            out.execute("DETACH DATABASE capture")
        except sqlite3.DatabaseError as e:
            raise CaptureError(self.out, _sqlite_problem(e)) from None
        finally:
            out.close()

    def close(self):
        if self.db is not None:
            try:
                self.db.close()
            except sqlite3.Error:
                pass
            self.db = None
        if self.lock is not None:
            os.close(self.lock)
            self.lock = None
