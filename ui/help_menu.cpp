#include "ui/help_menu.hpp"

#include "ui/doc_links.hpp"
#include "ui/error_sink.hpp"

#include <QApplication>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>

namespace kvtier::ui {

QString aboutText()
{
    return QObject::tr("<h3>kvtier %1</h3>"
                       "<p>KV-cache (and MoE expert) placement over memory tiers — HBM, LPDDR5X, DDR, CXL: which KV every "
                       "decode step reads, where each policy keeps it, the traffic on every tier, step times and bounds "
                       "on throughput.</p>"
                       "<p>Every number follows the placement model (Help → MODEL.md). Built with Qt %2, QCustomPlot, "
                       "oneTBB and SQLite.</p>")
        .arg(QStringLiteral(KVTIER_VERSION), QString::fromLatin1(qVersion()));
}

void openDocument(QWidget* parent, const QString& reference, const std::function<void(const QString&)>& status)
{
    QString message;
    if (!DocLinks::open(reference, &message)) {
        ErrorSink::instance().report(parent, QObject::tr("Cannot open the documentation"), message);
        return;
    }
    if (status)
        status(message);
}

void addHelpMenu(QMenuBar* bar, QWidget* parent, std::function<void(const QString&)> status)
{
    QMenu* help = bar->addMenu(QObject::tr("&Help"));
    help->setObjectName(QStringLiteral("helpMenu"));
    for (const ShippedDoc& d : shippedDocs()) {
        const QString file = QString::fromLatin1(d.file);
        QAction* a = help->addAction(QObject::tr(d.label), parent, [parent, file, status] { openDocument(parent, file, status); });
        a->setObjectName(QStringLiteral("help:") + file);
        if (file == QLatin1String("GUI.md"))
            a->setShortcut(QKeySequence::HelpContents);
    }
    help->addSeparator();
    QAction* about = help->addAction(QObject::tr("&About kvtier"), parent,
                                     [parent] { QMessageBox::about(parent, QObject::tr("About kvtier"), aboutText()); });
    about->setObjectName(QStringLiteral("help:about"));
    about->setMenuRole(QAction::AboutRole);
    QAction* aboutQt = help->addAction(QObject::tr("About &Qt"), qApp, &QApplication::aboutQt);
    aboutQt->setMenuRole(QAction::AboutQtRole);
}

} // namespace kvtier::ui
