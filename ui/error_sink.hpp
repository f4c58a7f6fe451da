#pragma once
// Where user-facing errors go. The GUI shows a (non-blocking) message box; tests install
// their own handler to capture the message instead. Every error is also emitted as a
// signal, so tests can QSignalSpy on it.
#include <QObject>
#include <QString>

#include <exception>
#include <functional>

class QWidget;

namespace kvtier::ui {

// What the user reads for an exception: kvtier's own one-line errors (InputError,
// InfeasibleError) as they are; running out of memory in words, naming `subject` (the
// file or trace being worked on); anything else as an internal error to report. Never a
// library's text such as "std::bad_alloc".
QString userMessage(const std::exception& e, const QString& subject = QString());
// True for running out of memory: std::bad_alloc, or an InputError "too large for memory ...".
bool tooLargeForMemory(const std::exception& e);

class ErrorSink : public QObject {
    Q_OBJECT
public:
    using Handler = std::function<void(const QString& title, const QString& message)>;

    static ErrorSink& instance();
    // Replaces the dialog (tests). An empty handler restores the dialog.
    void setHandler(Handler h) { handler_ = std::move(h); }
    // Shows `message` (file, place and problem) with `title` above `parent`.
    void report(QWidget* parent, const QString& title, const QString& message);

signals:
    void errorReported(const QString& title, const QString& message);

private:
    Handler handler_;
};

} // namespace kvtier::ui
