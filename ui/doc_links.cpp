#include "ui/doc_links.hpp"

#include "core/config/data_dir.hpp"

#include <QDesktopServices>
#include <QFile>
#include <QFileInfo>
#include <QObject>
#include <QRegularExpression>
#include <QTextStream>

#include <vector>

namespace kvtier::ui {

namespace {

DocLinks::Opener& opener()
{
    static DocLinks::Opener o;
    return o;
}

// "## 4. Tiers and time" for section "4".
QString headingOf(const QString& path, const QString& section)
{
    QFile f(path);
    if (section.isEmpty() || !f.open(QIODevice::ReadOnly | QIODevice::Text))
        return {};
    const QRegularExpression heading(QStringLiteral("^#{1,4}\\s+(?:§\\s*)?%1[.\\s](.*)$").arg(QRegularExpression::escape(section)));
    QTextStream in(&f);
    while (!in.atEnd()) {
        const QString line = in.readLine();
        if (const auto m = heading.match(line); m.hasMatch())
            return section + QStringLiteral(". ") + m.captured(1).trimmed();
    }
    return {};
}

} // namespace

const std::vector<ShippedDoc>& shippedDocs()
{
    static const std::vector<ShippedDoc> docs = {
        {"MODEL.md", "The placement &model (MODEL.md)"},
        {"POLICIES.md", "The &policies (POLICIES.md)"},
        {"BOUNDS.md", "The &bounds (BOUNDS.md)"},
        {"GUI.md", "The &explorer (GUI.md)"},
        {"SCENARIO.md", "&Scenario files (SCENARIO.md)"},
    };
    return docs;
}

DocReference resolveDocReference(const QString& reference)
{
    DocReference r;
    QString text = reference.trimmed();
    if (text.startsWith(QLatin1String("doc:")))
        text = text.mid(4).replace(QLatin1Char('#'), QStringLiteral(" §"));
    static const QRegularExpression form(QStringLiteral("^([A-Za-z_]+)(?:\\.md)?\\s*(?:§\\s*([0-9]+(?:\\.[0-9]+)*))?$"));
    const auto m = form.match(text);
    if (!m.hasMatch()) {
        r.error = QObject::tr("'%1' names no document (e.g. MODEL.md §4)").arg(reference);
        return r;
    }
    r.file = m.captured(1).toUpper() + QStringLiteral(".md");
    r.section = m.captured(2);
    bool known = false;
    for (const ShippedDoc& d : shippedDocs())
        known = known || r.file == QLatin1String(d.file);
    if (!known) {
        r.error = QObject::tr("%1 is not a document shipped with kvtier").arg(r.file);
        return r;
    }
    const QString path = QString::fromStdString(docPath(r.file.toStdString()));
    if (path.isEmpty() || !QFileInfo::exists(path)) {
        r.error = QObject::tr("%1 is not installed (looked in %2; cmake --install installs it, $KVTIER_DOC_DIR points elsewhere)")
                      .arg(r.file, path.isEmpty() ? QObject::tr("no data folder") : QFileInfo(path).absolutePath());
        return r;
    }
    r.path = QFileInfo(path).absoluteFilePath();
    r.title = headingOf(r.path, r.section);
    return r;
}

void DocLinks::setOpener(Opener o) { opener() = std::move(o); }

bool DocLinks::open(const QString& reference, QString* message)
{
    const DocReference r = resolveDocReference(reference);
    if (!r.error.isEmpty()) {
        if (message)
            *message = r.error;
        return false;
    }
    // Markdown viewers ignore fragments (and some openers take "#..." as part of the file
    // name), so the file opens at its start and the message names the section.
    const QUrl url = QUrl::fromLocalFile(r.path);
    const bool ok = opener() ? opener()(url) : QDesktopServices::openUrl(url);
    if (message)
        *message = ok ? (r.title.isEmpty() ? QObject::tr("Opened %1").arg(r.file) : QObject::tr("Opened %1 — see §%2").arg(r.file, r.title))
                       : QObject::tr("the desktop could not open %1").arg(r.path);
    return ok;
}

} // namespace kvtier::ui
