#include "ui/trace_library.hpp"

#include "core/io/importers.hpp"
#include "ui/error_sink.hpp"
#include "ui/job_runner.hpp"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QWidget>

namespace kvtier::ui {

namespace {

QString traceKey(const QString& db) { return QStringLiteral("trace/") + db; }

struct ImportOutcome {
    QStringList imported;
    QString error, errorFile;
};

} // namespace

TraceLibrary::TraceLibrary(QWidget* dialogParent)
    : QObject(dialogParent), dialogParent_(dialogParent),
      jobs_(new JobRunner(QStringLiteral("kvtier-library"), JobRunner::Mode::LatestWins, this)),
      importJobs_(new JobRunner(QStringLiteral("kvtier-import"), JobRunner::Mode::Queue, this)),
      lister_(std::make_shared<Lister>([](const std::string& path) {
          return TraceStore::open(path, TraceStore::Mode::ReadOnly)->list();
      }))
{
    for (JobRunner* r : {jobs_, importJobs_})
        connect(r, &JobRunner::busyChanged, this, &TraceLibrary::busyChanged);
}

TraceLibrary::~TraceLibrary()
{
    jobs_->stop();
    importJobs_->stop();
}

void TraceLibrary::setLister(Lister lister)
{
    lister_ = std::make_shared<Lister>(std::move(lister));
}

bool TraceLibrary::busy() const
{
    return jobs_->busy() || importJobs_->busy();
}

void TraceLibrary::list(const QString& db, std::function<void(const std::vector<TraceSummary>&)> then,
                        const QString& errorTitle, std::function<void()> onFailure)
{
    std::shared_ptr<Lister> lister = lister_;
    jobs_->run([lister, db](const JobContext&) { return (*lister)(db.toStdString()); }, std::move(then),
               [this, db, errorTitle, onFailure](const QString& message) {
                   ErrorSink::instance().report(dialogParent_, errorTitle, message);
                   if (onFailure)
                       onFailure();
                   emit databaseOpened(db, false);
               },
               db);
}

void TraceLibrary::open(const QString& path, const QString& trace, const QString& current, std::function<void()> onFailure,
                        std::function<void()> onMissing)
{
    const QString db = QFileInfo(path).absoluteFilePath();
    list(db,
         [this, db, trace, current, onFailure, onMissing](const std::vector<TraceSummary>& traces) {
             if (traces.empty()) {
                 ErrorSink::instance().report(dialogParent_, tr("Cannot open database"),
                                              tr("%1: the database holds no traces").arg(db));
                 if (onFailure)
                     onFailure();
                 emit databaseOpened(db, false);
                 return;
             }
             if (onMissing && !trace.isEmpty()) {
                 bool held = false;
                 QStringList names;
                 for (const TraceSummary& t : traces) {
                     held = held || QString::fromStdString(t.meta.name) == trace;
                     names << QString::fromStdString(t.meta.name);
                 }
                 if (!held) {
                     ErrorSink::instance().report(dialogParent_, tr("Cannot open trace"),
                                                  tr("%1: no trace named '%2' (the database holds: %3)")
                                                      .arg(db, trace, names.join(QStringLiteral(", "))));
                     onMissing();
                     emit databaseOpened(db, false);
                     return;
                 }
             }
             QString want = trace;
             if (want.isEmpty())
                 want = current;
             if (want.isEmpty())
                 want = QSettings().value(traceKey(db)).toString();
             bool found = false;
             for (const TraceSummary& t : traces)
                 found = found || QString::fromStdString(t.meta.name) == want;
             if (!found)
                 want = QString::fromStdString(traces.front().meta.name);
             choose(db, traces, want);
         },
         tr("Cannot open database"), onFailure);
}

void TraceLibrary::select(const QString& name)
{
    if (dbPath_.isEmpty())
        return;
    const QString db = dbPath_;
    list(db,
         [this, db, name](const std::vector<TraceSummary>& traces) {
             QSettings().setValue(traceKey(db), name);
             choose(db, traces, name);
         },
         tr("Cannot read database"), {});
}

void TraceLibrary::choose(const QString& db, const std::vector<TraceSummary>& traces, const QString& trace)
{
    dbPath_ = db;
    emit traceChosen(db, traces, trace);
    emit databaseOpened(db, true);
}

void TraceLibrary::importFiles(const QStringList& files, const QString& targetDb, int32_t layers)
{
    auto work = [files, targetDb, layers](const JobContext&) {
        ImportOutcome out;
        try {
            auto store = TraceStore::open(targetDb.toStdString(), TraceStore::Mode::ReadWrite);
            for (const QString& f : files) {
                out.errorFile = f;
                const std::string path = f.toStdString();
                const ImportFormat format = guessImportFormat(path);
                ImportOptions opt;
                if (format != ImportFormat::KvtierDb) {
                    // A name that is not taken yet: "qasper", "qasper-2", ...
                    const std::string base = traceNameFromPath(path);
                    std::string name = base;
                    for (int k = 2; store->find(name); ++k)
                        name = base + "-" + std::to_string(k);
                    opt.name = name;
                    opt.layers = layers;
                }
                for (const TraceSummary& s : importFile(*store, path, format, opt))
                    out.imported << QString::fromStdString(s.meta.name);
            }
        } catch (const std::exception& e) {
            // Named by the file that failed, so the message is built here.
            out.error = userMessage(e, out.errorFile);
        }
        return out;
    };
    importJobs_->run(std::move(work), [this, targetDb](const ImportOutcome& out) {
        if (!out.error.isEmpty()) {
            ErrorSink::instance().report(dialogParent_, tr("Import failed"),
                                         tr("Could not import %1:\n%2\n\nThe current trace is kept.")
                                             .arg(QDir::toNativeSeparators(out.errorFile), out.error));
            emit importFinished(false, out.imported);
            return;
        }
        if (!out.imported.isEmpty())
            open(targetDb, out.imported.front());
        emit importFinished(true, out.imported);
    });
}

void TraceLibrary::drop(const QStringList& files, int32_t layers)
{
    // Whether it is one kvtier database is read from the file's first bytes: off the UI thread.
    jobs_->run(
        [files](const JobContext&) {
            try {
                return files.size() == 1 && guessImportFormat(files.front().toStdString()) == ImportFormat::KvtierDb;
            } catch (const std::exception&) {
                return false;   // not readable: the import reports why
            }
        },
        [this, files, layers](bool isDb) { handleDrop(files, isDb, layers); });
}

void TraceLibrary::handleDrop(const QStringList& files, bool isDb, int32_t layers)
{
    switch (dropChooser_ ? dropChooser_(files, isDb) : askDropChoice(files, isDb)) {
    case DropChoice::Open:
        if (isDb)
            open(files.front(), QString());
        break;
    case DropChoice::IntoCurrent:
        if (!dbPath_.isEmpty())
            importFiles(files, dbPath_, layers);
        break;
    case DropChoice::IntoNew: {
        const QString target =
            QFileDialog::getSaveFileName(dialogParent_, tr("New trace database"), QString(), tr("SQLite (*.sqlite)"));
        if (!target.isEmpty())
            importFiles(files, target, layers);
        break;
    }
    case DropChoice::Cancel:
        break;
    }
}

// Asks where dropped traces should go; a single kvtier database may also just be opened.
TraceLibrary::DropChoice TraceLibrary::askDropChoice(const QStringList& files, bool canOpen)
{
    QMessageBox box(QMessageBox::Question, tr("Import traces"),
                    tr("Import %n file(s)?", nullptr, static_cast<int>(files.size())), QMessageBox::Cancel, dialogParent_);
    box.setInformativeText(files.join(QLatin1Char('\n')));
    QPushButton* current =
        dbPath_.isEmpty() ? nullptr : box.addButton(tr("Into %1").arg(QFileInfo(dbPath_).fileName()), QMessageBox::AcceptRole);
    QPushButton* fresh = box.addButton(tr("Into a new database…"), QMessageBox::AcceptRole);
    QPushButton* openIt = canOpen ? box.addButton(tr("Open it"), QMessageBox::AcceptRole) : nullptr;
    box.exec();
    const QAbstractButton* clicked = box.clickedButton();
    if (clicked && clicked == openIt)
        return DropChoice::Open;
    if (clicked && clicked == current)
        return DropChoice::IntoCurrent;
    if (clicked && clicked == fresh)
        return DropChoice::IntoNew;
    return DropChoice::Cancel;
}

} // namespace kvtier::ui
