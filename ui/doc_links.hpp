#pragma once
// The documents shipped with the program (core/config/data_dir.hpp docDir) and the
// references to them: "MODEL.md §4", "MODEL §4" or a link "doc:MODEL.md#4" (what the
// Explain panel writes). A reference resolves to the file and the title of the section;
// the file opens with the desktop's viewer (QDesktopServices), or through an opener a
// test or embedder sets.
#include <QString>
#include <QUrl>

#include <functional>
#include <vector>

namespace kvtier::ui {

struct DocReference {
    QString file;      // "MODEL.md"
    QString section;   // "4", or empty for the whole document
    QString path;      // absolute path of the shipped copy; empty when it is missing
    QString title;     // the section's heading ("4. Tiers and time"), or empty
    QString error;     // why it cannot be opened, one line; empty when it can
};

// The documents the Help menu lists: file name and menu text.
struct ShippedDoc {
    const char* file;
    const char* label;
};
const std::vector<ShippedDoc>& shippedDocs();

// Parses and resolves a reference (see above). Never throws.
DocReference resolveDocReference(const QString& reference);

class DocLinks {
public:
    using Opener = std::function<bool(const QUrl&)>;
    // Replaces QDesktopServices::openUrl (tests record the URL instead).
    static void setOpener(Opener opener);
    // Opens the document of a reference. Returns false with `error` set when the document
    // is not shipped or the desktop cannot open it.
    static bool open(const QString& reference, QString* message);
};

} // namespace kvtier::ui
