#pragma once
// The Help menu: the documents shipped with the program (ui/doc_links.hpp) and About.
#include <QString>

#include <functional>

class QMenuBar;
class QWidget;

namespace kvtier::ui {

// "kvtier 0.1.0" and what it is, for the About box.
QString aboutText();
// Opens a document reference ("MODEL.md §4", "doc:MODEL.md#4"); reports a failure through
// ErrorSink and the outcome through `status`.
void openDocument(QWidget* parent, const QString& reference, const std::function<void(const QString&)>& status);
// Adds "&Help" to `bar`: one entry per shipped document, then About kvtier and About Qt.
void addHelpMenu(QMenuBar* bar, QWidget* parent, std::function<void(const QString&)> status);

} // namespace kvtier::ui
