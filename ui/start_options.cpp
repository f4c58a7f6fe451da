#include "ui/start_options.hpp"

#include "ui/error_sink.hpp"
#include "ui/main_window.hpp"
#include "ui/relevance_view.hpp"
#include "ui/sequence_link.hpp"

#include <QComboBox>
#include <QStringList>

#include <memory>

namespace kvtier::ui {

void applyOnFirstResult(MainWindow& w, const StartView& view)
{
    if (view.policy.isEmpty() && view.token < 0 && view.view.isEmpty() && view.sequence < 0)
        return;
    if (!view.view.isEmpty() && !w.bringViewToFront(view.view))
        ErrorSink::instance().report(&w, QObject::tr("No such view"),
                                     QObject::tr("--view %1: the views are comparison, placement, experts, bandwidth, relevance and sweep")
                                         .arg(view.view));
    auto connection = std::make_shared<QMetaObject::Connection>();
    *connection = QObject::connect(&w, &MainWindow::analysisShown, &w, [&w, view, connection](const AnalysisOutputPtr& out) {
        if (!out || out->partial)
            return;
        QObject::disconnect(*connection);
        if (view.view == QLatin1String("experts") && !w.expertsShown())
            ErrorSink::instance().report(&w, QObject::tr("No such view"),
                                         QObject::tr("--view experts: the scenario's model has no experts (model.experts = 0)"));
        if (!view.policy.isEmpty()) {
            QComboBox* combo = w.policyCombo();
            const int i = combo->findData(view.policy);
            if (i < 0) {
                QStringList names;
                for (int k = 0; k < combo->count(); ++k)
                    names << combo->itemData(k).toString();
                ErrorSink::instance().report(&w, QObject::tr("Policy not shown"),
                                             QObject::tr("--policy %1: the scenario does not run this policy (it runs: %2)")
                                                 .arg(view.policy, names.join(QStringLiteral(", "))));
            } else {
                combo->setCurrentIndex(i);
            }
        }
        if (view.sequence >= 0) {
            const auto& meta = out->result->trace->meta();
            if (view.sequence < meta.sequenceCount())
                w.sequenceLink()->setSequence(view.sequence);
            else
                ErrorSink::instance().report(&w, QObject::tr("Sequence not shown"),
                                             QObject::tr("--sequence %1: trace '%2' has sequences 0 to %3")
                                                 .arg(view.sequence)
                                                 .arg(QString::fromStdString(meta.name))
                                                 .arg(meta.sequenceCount() - 1));
        }
        if (view.token >= 0 && !w.relevanceView()->followToken(view.token)) {
            const auto& meta = out->result->trace->meta();
            ErrorSink::instance().report(&w, QObject::tr("Token not followed"),
                                         QObject::tr("--token %1: trace '%2' has tokens 0 to %3")
                                             .arg(view.token)
                                             .arg(QString::fromStdString(meta.name))
                                             .arg(meta.prefill + meta.steps - 1));
        }
    });
}

} // namespace kvtier::ui
