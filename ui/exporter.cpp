#include "ui/exporter.hpp"

#include "core/io/atomic_file.hpp"
#include "core/model/error.hpp"
#include "ui/plot_view.hpp"
#include "ui/theme.hpp"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QSpinBox>
#include <QSvgGenerator>
#include <QTextStream>
#include <qcustomplot.h>

#include <optional>

namespace kvtier::ui {

QString extensionOf(ExportFormat f)
{
    switch (f) {
    case ExportFormat::Png: return QStringLiteral("png");
    case ExportFormat::Pdf: return QStringLiteral("pdf");
    case ExportFormat::Svg: return QStringLiteral("svg");
    case ExportFormat::Csv: return QStringLiteral("csv");
    }
    return {};
}

ExportFormat formatFromExtension(const QString& suffix, bool* ok)
{
    const QString s = suffix.toLower();
    if (ok)
        *ok = true;
    if (s == QLatin1String("pdf"))
        return ExportFormat::Pdf;
    if (s == QLatin1String("svg"))
        return ExportFormat::Svg;
    if (s == QLatin1String("csv"))
        return ExportFormat::Csv;
    if (ok)
        *ok = s == QLatin1String("png");
    return ExportFormat::Png;
}

namespace {

// Renders with the light theme, then restores whatever the screen shows.
class LightThemeScope {
public:
    explicit LightThemeScope(PlotView* v) : view_(v), saved_(Theme::current())
    {
        if (saved_.dark) {
            Theme::setCurrent(Theme::light());
            view_->applyTheme();
        }
    }
    ~LightThemeScope()
    {
        if (saved_.dark) {
            Theme::setCurrent(saved_);
            view_->applyTheme();
            view_->plot()->replot(QCustomPlot::rpQueuedReplot);
        }
    }

private:
    PlotView* view_;
    Theme saved_;
};

bool saveSvg(QCustomPlot* plot, const QString& path, QSize size, const QString& title)
{
    QSvgGenerator gen;
    gen.setFileName(path);
    gen.setSize(size);
    gen.setViewBox(QRect(QPoint(0, 0), size));
    gen.setTitle(title);
    gen.setDescription(QStringLiteral("kvtier figure"));
    QCPPainter painter;
    if (!painter.begin(&gen))
        return false;
    painter.setMode(QCPPainter::pmVectorized);
    painter.setMode(QCPPainter::pmNoCaching);
    plot->toPainter(&painter, size.width(), size.height());
    return painter.end();
}

} // namespace

bool exportView(PlotView* view, const QString& path, ExportFormat format, QSize size, QString* error)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    auto fail = [&](const QString& why) {
        if (error)
            *error = QStringLiteral("%1: %2").arg(path, why);
        return false;
    };
    if (format == ExportFormat::Csv) {
        QSaveFile f(path);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Text))
            return fail(f.errorString());
        QTextStream s(&f);
        if (!view->writeCsv(s))
            return fail(QObject::tr("the %1 view has no data yet").arg(view->viewId()));
        s.flush();
        if (!f.commit())
            return fail(f.errorString());
        return true;
    }
    if (size.width() < 16 || size.height() < 16)
        return fail(QObject::tr("figure size %1 x %2 is too small").arg(size.width()).arg(size.height()));
    // Rendered into a unique temporary file renamed over `path` when complete (as the CSV
    // above, through QSaveFile): a failure never leaves half a figure or clobbers a file.
    std::optional<AtomicFile> file;
    try {
        file.emplace(path.toStdString());
    } catch (const InputError& e) {
        return fail(QString::fromStdString(e.problem()));
    }
    const QString temporary = QString::fromStdString(file->temporaryPath());
    LightThemeScope light(view);
    QCustomPlot* plot = view->plot();
    bool ok = false;
    switch (format) {
    case ExportFormat::Png: ok = plot->savePng(temporary, size.width(), size.height(), 1.0, -1, 150); break;
    case ExportFormat::Pdf:
        ok = plot->savePdf(temporary, size.width(), size.height(), QCP::epNoCosmetic, QStringLiteral("kvtier"), view->title());
        break;
    case ExportFormat::Svg: ok = saveSvg(plot, temporary, size, view->title()); break;
    case ExportFormat::Csv: break;
    }
    if (!ok || QFileInfo(temporary).size() == 0)
        return fail(QObject::tr("could not write the file"));
    try {
        file->commit();
    } catch (const InputError& e) {
        return fail(QString::fromStdString(e.problem()));
    }
    return true;
}

QStringList exportViewAllFormats(PlotView* view, const QString& dir, QSize size, QString* error)
{
    QStringList written;
    for (ExportFormat f : {ExportFormat::Png, ExportFormat::Pdf, ExportFormat::Svg, ExportFormat::Csv}) {
        const QString path = QDir(dir).filePath(view->viewId() + QLatin1Char('.') + extensionOf(f));
        if (exportView(view, path, f, size, error))
            written << path;
        else
            return written;
    }
    return written;
}

ExportDialog::ExportDialog(PlotView* view, const QString& lastDir, QWidget* parent) : QDialog(parent)
{
    setWindowTitle(tr("Export %1").arg(view->title()));
    auto* form = new QFormLayout(this);
    format_ = new QComboBox(this);
    format_->addItem(tr("PNG image"), static_cast<int>(ExportFormat::Png));
    format_->addItem(tr("PDF (vector)"), static_cast<int>(ExportFormat::Pdf));
    format_->addItem(tr("SVG (vector)"), static_cast<int>(ExportFormat::Svg));
    format_->addItem(tr("CSV (the data behind the figure)"), static_cast<int>(ExportFormat::Csv));
    form->addRow(tr("Format"), format_);
    auto* sizeRow = new QHBoxLayout;
    width_ = new QSpinBox(this);
    height_ = new QSpinBox(this);
    for (QSpinBox* s : {width_, height_}) {
        s->setRange(100, 10000);
        s->setSuffix(tr(" px"));
    }
    width_->setValue(1200);
    height_->setValue(750);
    sizeRow->addWidget(width_);
    sizeRow->addWidget(new QLabel(QStringLiteral("×"), this));
    sizeRow->addWidget(height_);
    form->addRow(tr("Size"), sizeRow);
    auto* pathRow = new QHBoxLayout;
    path_ = new QLineEdit(QDir(lastDir.isEmpty() ? QDir::homePath() : lastDir).filePath(view->viewId() + QStringLiteral(".png")), this);
    auto* browse = new QPushButton(tr("Browse…"), this);
    pathRow->addWidget(path_, 1);
    pathRow->addWidget(browse);
    form->addRow(tr("File"), pathRow);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(format_, &QComboBox::currentIndexChanged, this, [this] { updateSuffix(); });
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString ext = extensionOf(format());
        const QString p = QFileDialog::getSaveFileName(this, tr("Export to"), path_->text(),
                                                       QStringLiteral("%1 (*.%2)").arg(ext.toUpper(), ext));
        if (!p.isEmpty())
            path_->setText(p);
    });
    resize(560, sizeHint().height());
}

void ExportDialog::updateSuffix()
{
    QFileInfo fi(path_->text());
    path_->setText(fi.dir().filePath(fi.completeBaseName() + QLatin1Char('.') + extensionOf(format())));
    width_->setEnabled(format() != ExportFormat::Csv);
    height_->setEnabled(format() != ExportFormat::Csv);
}

QString ExportDialog::path() const { return path_->text(); }
ExportFormat ExportDialog::format() const { return static_cast<ExportFormat>(format_->currentData().toInt()); }
QSize ExportDialog::size() const { return {width_->value(), height_->value()}; }

} // namespace kvtier::ui
