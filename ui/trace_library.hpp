#pragma once
// The trace library: which database is open, its traces, opening and listing it, choosing
// a trace (by name, else the one shown last from that database, else the first), naming
// and importing new traces, and what to do with dropped files. Everything that touches a
// file runs on a JobRunner, never on the UI thread; errors reach the user through
// ErrorSink. The window applies the chosen trace (traceChosen) to the scenario.
#include "core/store/trace_store.hpp"

#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>
#include <vector>

class QWidget;

namespace kvtier::ui {

class JobRunner;

class TraceLibrary : public QObject {
    Q_OBJECT
public:
    // `dialogParent`: the window the messages and file dialogs belong to.
    explicit TraceLibrary(QWidget* dialogParent);
    ~TraceLibrary() override;

    // What lists a database's traces, on the library's worker thread. The default opens
    // the store read-only and lists it.
    using Lister = std::function<std::vector<TraceSummary>(const std::string& path)>;
    void setLister(Lister lister);

    // Lists `path` in the background and chooses `trace`, else `current` (the trace the
    // scenario shows, when it is in this database), else the last one shown from it, else
    // the first. `onFailure` runs after the error was reported. A newer open or choice
    // supersedes a pending one. With `onMissing` (a scenario file names the trace) a
    // `trace` the database does not hold is an error, as in the CLI, not a reason to show
    // another: it is reported, then `onMissing` runs.
    void open(const QString& path, const QString& trace, const QString& current = QString(),
              std::function<void()> onFailure = {}, std::function<void()> onMissing = {});
    // Another trace of the open database (its list is read again).
    void select(const QString& name);
    // Imports into `targetDb` (created when missing), in order, each reporting; the first
    // imported trace is then opened. `layers`: for formats that do not say.
    void importFiles(const QStringList& files, const QString& targetDb, int32_t layers);

    // Dropped trace files: asks (or the chooser answers) whether to open a database or
    // import into the current or a new one. `canOpen`: the drop is one kvtier database.
    enum class DropChoice { Cancel, IntoCurrent, IntoNew, Open };
    using DropChooser = std::function<DropChoice(const QStringList& files, bool canOpen)>;
    void setDropChooser(DropChooser chooser) { dropChooser_ = std::move(chooser); }
    void drop(const QStringList& files, int32_t layers);

    QString databasePath() const { return dbPath_; }
    bool busy() const;
    JobRunner* jobs() const { return jobs_; }

signals:
    // The listing of `db` arrived and `trace` is the one to show.
    void traceChosen(const QString& db, const std::vector<kvtier::TraceSummary>& traces, const QString& trace);
    void databaseOpened(const QString& path, bool ok);
    void importFinished(bool ok, const QStringList& traces);
    void busyChanged();

private:
    void list(const QString& db, std::function<void(const std::vector<TraceSummary>&)> then, const QString& errorTitle,
              std::function<void()> onFailure);
    void choose(const QString& db, const std::vector<TraceSummary>& traces, const QString& trace);
    DropChoice askDropChoice(const QStringList& files, bool canOpen);
    void handleDrop(const QStringList& files, bool isDb, int32_t layers);

    QWidget* dialogParent_;
    JobRunner* jobs_;         // opening and listing databases, sniffing dropped files
    JobRunner* importJobs_;   // imports, in order, each reporting
    std::shared_ptr<Lister> lister_;
    DropChooser dropChooser_;
    QString dbPath_;
};

} // namespace kvtier::ui
