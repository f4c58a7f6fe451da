#include "ui/error_sink.hpp"

#include <QMessageBox>

namespace kvtier::ui {

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
