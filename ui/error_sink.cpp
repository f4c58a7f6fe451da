#include "ui/error_sink.hpp"

#include "core/model/error.hpp"

#include <new>

#include <QMessageBox>

namespace kvtier::ui {

namespace {

// The way out for a trace larger than memory: the CLI's streamed analysis (docs/PERFORMANCE.md).
const QString kStreamHint = QStringLiteral("; kvtier-cli analyze --stream analyses it in bounded memory");

} // namespace

bool tooLargeForMemory(const std::exception& e)
{
    if (const auto* input = dynamic_cast<const InputError*>(&e))
        return input->problem().rfind("too large for memory", 0) == 0;
    return dynamic_cast<const std::bad_alloc*>(&e) != nullptr;
}

QString userMessage(const std::exception& e, const QString& subject)
{
    if (const auto* input = dynamic_cast<const InputError*>(&e)) {
        const QString text = QString::fromUtf8(e.what());
        return input->problem().rfind("too large for memory", 0) == 0 ? text + kStreamHint : text;
    }
    if (dynamic_cast<const InfeasibleError*>(&e))
        return QString::fromUtf8(e.what());
    const QString where = subject.isEmpty() ? QString() : subject + QStringLiteral(": ");
    if (dynamic_cast<const std::bad_alloc*>(&e))
        return where + QStringLiteral("too large for this machine's memory; use larger pages "
                                      "(selection.page_tokens), fewer policies or a shorter trace") +
               kStreamHint;
    return where + QStringLiteral("internal error, please report it: %1").arg(QString::fromUtf8(e.what()));
}

ErrorSink& ErrorSink::instance()
{
    static ErrorSink sink;
    return sink;
}

void ErrorSink::report(QWidget* parent, const QString& title, const QString& message)
{
    emit errorReported(title, message);
    if (handler_) {
        handler_(title, message);
        return;
    }
    // open() rather than exec(): the event loop keeps running (workers, tests, repaints).
    auto* box = new QMessageBox(QMessageBox::Warning, title, message, QMessageBox::Ok, parent);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setTextInteractionFlags(Qt::TextSelectableByMouse);
    box->open();
}

} // namespace kvtier::ui
