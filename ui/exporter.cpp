#include "ui/exporter.hpp"

#include "core/io/atomic_file.hpp"
#include "core/model/error.hpp"
#include "ui/plot_view.hpp"
#include "ui/text_fit.hpp"
#include "ui/theme.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSaveFile>
#include <QSpinBox>
#include <QSvgGenerator>
#include <QTextStream>
#include <qcustomplot.h>

#include <cmath>
#include <functional>
#include <optional>
#include <vector>

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

double FigureSize::widthInches() const { return unit == SizeUnit::Millimetres ? width / 25.4 : width; }

QSizeF FigureSize::layoutSize() const
{
    switch (unit) {
    case SizeUnit::Pixels: return {width, height};
    case SizeUnit::Inches: return {width * 72.0, height * 72.0};
    case SizeUnit::Millimetres: return {width / 25.4 * 72.0, height / 25.4 * 72.0};
    }
    return {width, height};
}

FigureSize FigureSize::pixels(QSize s)
{
    FigureSize f;
    f.width = s.width();
    f.height = s.height();
    return f;
}

FigureSize FigureSize::inches(double w, double h, double fontPt)
{
    FigureSize f;
    f.width = w;
    f.height = h;
    f.unit = SizeUnit::Inches;
    f.font_pt = fontPt;
    return f;
}

FigureSize FigureSize::millimetres(double w, double h, double fontPt)
{
    FigureSize f = inches(w, h, fontPt);
    f.unit = SizeUnit::Millimetres;
    return f;
}

const std::vector<FigurePreset>& figurePresets()
{
    static const std::vector<FigurePreset> presets = {
        {"One column (3.5 in, 8 pt)", FigureSize::inches(3.5, 2.17, 8)},
        {"Two columns (7.16 in, 8 pt)", FigureSize::inches(7.16, 3.2, 8)},
        {"Slide (1600 × 900 px)", FigureSize::pixels(QSize(1600, 900))},
        {"Screen (1200 × 750 px)", FigureSize::pixels(QSize(1200, 750))},
    };
    return presets;
}

ExportOptions ExportOptions::pixels(QSize s, bool overwrite)
{
    ExportOptions o;
    o.size = FigureSize::pixels(s);
    o.overwrite = overwrite;
    return o;
}

namespace {

// Everything a figure changes on the view for the time of one export, undone in reverse:
// the light theme, screen-only parts hidden, the figure title, fonts at the figure's
// point size, a caption row, the legend's columns for the figure's width.
class FigureScope {
public:
    FigureScope(PlotView* v, const ExportOptions& o) : view_(v), plot_(v->plot()), saved_(Theme::current())
    {
        if (saved_.dark) {
            Theme::setCurrent(Theme::light());
            view_->applyTheme();
        }
        for (QObject* part : view_->screenOnly())
            if (auto* l = qobject_cast<QCPLayerable*>(part); l && l->visible()) {
                l->setVisible(false);
                undo_.push_back([l] { l->setVisible(true); });
            }
        if (view_->titleElement() && view_->plotTitle() != view_->figureTitle()) {
            const QString text = view_->plotTitle();
            view_->showTitleText(view_->figureTitle());
            undo_.push_back([v = view_, text] { v->showTitleText(text); });
        }
        if (o.size.physical())
            setFonts(o.size.font_pt);
        if (!o.caption.isEmpty())
            addCaption(o);
        wrapTexts(o.size.layoutSize().toSize().width());
        roomForCategories();
        fitLegends(o.size.layoutSize().toSize());
    }
    // The height everything needs at the figure's width and fonts (legend rows included).
    int neededHeight() const { return plot_->plotLayout()->minimumOuterSizeHint().height(); }
    ~FigureScope()
    {
        for (auto it = undo_.rbegin(); it != undo_.rend(); ++it)
            (*it)();
        // Legend columns and the theme for the on-screen size again.
        if (saved_.dark) {
            Theme::setCurrent(saved_);
            view_->applyTheme();
        }
        plot_->replot(QCustomPlot::rpQueuedReplot);
    }

private:
    static QFont sized(QFont f, double pt, bool bold = false)
    {
        // Pixel sizes in layout units: the layout is in points, so this is the point size
        // on paper, whatever the resolution of the device it is drawn on.
        f.setPixelSize(std::max(1, static_cast<int>(std::lround(pt))));
        if (bold)
            f.setBold(true);
        return f;
    }

    void setFonts(double pt)
    {
        std::vector<QCPAxis*> axes;
        for (QCPAxisRect* r : plot_->axisRects())
            for (QCPAxis* a : r->axes())
                axes.push_back(a);
        std::vector<QCPLegend*> legends;
        std::vector<QCPTextElement*> texts;
        for (QCPLayoutElement* e : plot_->plotLayout()->elements(true)) {
            if (auto* scale = qobject_cast<QCPColorScale*>(e))
                axes.push_back(scale->axis());
            else if (auto* legend = qobject_cast<QCPLegend*>(e))
                legends.push_back(legend);
            else if (auto* text = qobject_cast<QCPTextElement*>(e))
                texts.push_back(text);
        }
        for (QCPAxis* a : axes) {
            const QFont tick = a->tickLabelFont(), label = a->labelFont();
            const int padding = a->labelPadding(), tickPadding = a->tickLabelPadding();
            a->setTickLabelFont(sized(tick, pt));
            a->setLabelFont(sized(label, pt));
            a->setLabelPadding(std::max(1, static_cast<int>(pt / 3)));
            a->setTickLabelPadding(std::max(1, static_cast<int>(pt / 3)));
            undo_.push_back([a, tick, label, padding, tickPadding] {
                a->setTickLabelFont(tick);
                a->setLabelFont(label);
                a->setLabelPadding(padding);
                a->setTickLabelPadding(tickPadding);
            });
        }
        for (QCPLegend* l : legends) {
            const QFont font = l->font();
            const QSize icon = l->iconSize();
            std::vector<std::pair<QCPAbstractLegendItem*, QFont>> items;
            for (int i = 0; i < l->itemCount(); ++i)
                if (QCPAbstractLegendItem* item = l->item(i))
                    items.emplace_back(item, item->font());
            l->setFont(sized(font, pt));
            for (auto& [item, f] : items)
                item->setFont(sized(f, pt));
            l->setIconSize(QSize(static_cast<int>(pt * 2), static_cast<int>(pt)));
            undo_.push_back([l, font, icon, items] {
                l->setFont(font);
                l->setIconSize(icon);
                for (const auto& [item, f] : items)
                    item->setFont(f);
            });
        }
        for (QCPTextElement* t : texts) {
            const QFont font = t->font();
            t->setFont(sized(font, t == view_->titleElement() ? pt + 1 : pt));
            undo_.push_back([t, font] { t->setFont(font); });
        }
        for (int i = 0; i < plot_->itemCount(); ++i)
            if (auto* text = qobject_cast<QCPItemText*>(plot_->item(i))) {
                const QFont font = text->font();
                text->setFont(sized(font, pt));
                undo_.push_back([text, font] { text->setFont(font); });
            }
    }

    // A vertical axis of named rows (the comparison's policies) needs a line per row: its
    // axis rect is given that much height at least, so the names never overlap.
    void roomForCategories()
    {
        for (QCPAxisRect* r : plot_->axisRects()) {
            int want = 0;
            for (QCPAxis* a : r->axes(QCPAxis::atLeft | QCPAxis::atRight))
                if (auto t = a->ticker().dynamicCast<QCPAxisTickerText>(); t && a->visible() && a->tickLabels())
                    want = std::max(want, static_cast<int>(std::ceil(static_cast<double>(t->ticks().size()) *
                                                                     QFontMetrics(a->tickLabelFont()).lineSpacing() * 1.15)));
            if (want > r->minimumSize().height()) {
                const QSize old = r->minimumSize();
                r->setMinimumSize(old.width(), want);
                undo_.push_back([r, old] { r->setMinimumSize(old); });
            }
        }
    }

    // Titles and the caption wrap at the figure's width rather than run off it.
    void wrapTexts(int width)
    {
        for (QCPLayoutElement* e : plot_->plotLayout()->elements(true))
            if (auto* t = qobject_cast<QCPTextElement*>(e)) {
                const QString text = t->text();
                const QString wrapped = wrapText(text, t->font(), width - t->margins().left() - t->margins().right() - 8);
                if (wrapped != text) {
                    t->setText(wrapped);
                    undo_.push_back([t, text] { t->setText(text); });
                }
            }
    }

    void addCaption(const ExportOptions& o)
    {
        QCPLayoutGrid* grid = plot_->plotLayout();
        const int row = grid->rowCount();
        grid->insertRow(row);
        QFont font = plot_->font();
        if (o.size.physical())
            font = sized(font, std::max(6.0, o.size.font_pt - 1));
        auto* caption = new QCPTextElement(plot_, o.caption, font);
        caption->setTextColor(QColor(0x55, 0x55, 0x55));
        caption->setMargins(QMargins(2, 2, 2, 2));
        grid->addElement(row, 0, caption);
        undo_.push_back([grid, caption] {
            grid->remove(caption);
            grid->simplify();
        });
    }

    // PlotView::fitLegendToWidth sets the columns before a replot for the viewport's width;
    // a figure is drawn without a replot, so ask for the figure's width here.
    void fitLegends(QSize layout)
    {
        const QRect old = plot_->viewport();
        plot_->setViewport(QRect(QPoint(0, 0), layout));
        Q_EMIT plot_->beforeReplot();
        plot_->setViewport(old);
        undo_.push_back([p = plot_] { Q_EMIT p->beforeReplot(); });
    }

    PlotView* view_;
    QCustomPlot* plot_;
    Theme saved_;
    std::vector<std::function<void()>> undo_;
};

bool saveSvg(QCustomPlot* plot, const QString& path, QSize size, bool physical, const QString& title)
{
    QSvgGenerator gen;
    gen.setFileName(path);
    gen.setSize(size);
    gen.setViewBox(QRect(QPoint(0, 0), size));
    if (physical)
        gen.setResolution(72);   // layout units are points: width="3.5in" for 252 units
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
    return exportView(view, path, format, ExportOptions::pixels(size), error);
}

bool exportView(PlotView* view, const QString& path, ExportFormat format, const ExportOptions& options, QString* error,
                int* heightRaised)
{
    auto fail = [&](const QString& why) {
        if (error)
            *error = QStringLiteral("%1: %2").arg(path, why);
        return false;
    };
    const QFileInfo target(path);
    if (!target.absoluteDir().exists())
        return fail(QObject::tr("folder %1 does not exist").arg(QDir::toNativeSeparators(target.absolutePath())));
    if (target.exists() && !options.overwrite)
        return fail(QObject::tr("the file exists (choose to overwrite it, or another name)"));
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
    QSize layout = options.size.layoutSize().toSize();
    if (layout.width() < 16 || layout.height() < 16)
        return fail(QObject::tr("figure size %1 x %2 is too small").arg(layout.width()).arg(layout.height()));
    const double scale = options.size.physical() && format == ExportFormat::Png ? options.size.dpi / 72.0 : 1.0;
    if (layout.width() * scale > 20000 || layout.height() * scale > 20000)
        return fail(QObject::tr("figure of %1 x %2 pixels is too large").arg(layout.width() * scale).arg(layout.height() * scale));
    // Rendered into a unique temporary file renamed over `path` when complete (as the CSV
    // above, through QSaveFile): a failure never leaves half a figure or clobbers a file.
    std::optional<AtomicFile> file;
    try {
        file.emplace(path.toStdString());
    } catch (const InputError& e) {
        return fail(QString::fromStdString(e.problem()));
    }
    const QString temporary = QString::fromStdString(file->temporaryPath());
    FigureScope figure(view, options);
    // Never clipped: at a small size or a large font the figure grows taller (its width,
    // the column, stays) until every row (title, panels, legend, caption) has its minimum.
    if (const int need = figure.neededHeight(); need > layout.height()) {
        if (heightRaised)
            *heightRaised = need;
        layout.setHeight(need);
    }
    QCustomPlot* plot = view->plot();
    bool ok = false;
    switch (format) {
    case ExportFormat::Png:
        ok = plot->savePng(temporary, layout.width(), layout.height(), scale, -1, options.size.physical() ? options.size.dpi : 150);
        break;
    case ExportFormat::Pdf:
        ok = plot->savePdf(temporary, layout.width(), layout.height(), QCP::epNoCosmetic, QStringLiteral("kvtier"), view->figureTitle());
        break;
    case ExportFormat::Svg: ok = saveSvg(plot, temporary, layout, options.size.physical(), view->figureTitle()); break;
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

QStringList exportFileNames(PlotView* view, const QString& dir)
{
    QStringList out;
    for (ExportFormat f : {ExportFormat::Png, ExportFormat::Pdf, ExportFormat::Svg, ExportFormat::Csv})
        out << QDir(dir).filePath(view->viewId() + QLatin1Char('.') + extensionOf(f));
    return out;
}

QStringList exportViewAllFormats(PlotView* view, const QString& dir, const ExportOptions& options, QString* error)
{
    QStringList written;
    const QStringList paths = exportFileNames(view, dir);
    const ExportFormat formats[] = {ExportFormat::Png, ExportFormat::Pdf, ExportFormat::Svg, ExportFormat::Csv};
    for (int i = 0; i < paths.size(); ++i) {
        if (!exportView(view, paths[i], formats[i], options, error))
            return written;
        written << paths[i];
    }
    return written;
}

ExportDialog::ExportDialog(PlotView* view, const QString& lastDir, bool fullResolution, QWidget* parent) : QDialog(parent)
{
    setWindowTitle(tr("Export %1").arg(view->title()));
    auto* form = new QFormLayout(this);
    format_ = new QComboBox(this);
    format_->setObjectName(QStringLiteral("exportFormat"));
    format_->addItem(tr("PNG image"), static_cast<int>(ExportFormat::Png));
    format_->addItem(tr("PDF (vector)"), static_cast<int>(ExportFormat::Pdf));
    format_->addItem(tr("SVG (vector)"), static_cast<int>(ExportFormat::Svg));
    format_->addItem(tr("CSV (the data behind the figure)"), static_cast<int>(ExportFormat::Csv));
    form->addRow(tr("Format"), format_);

    preset_ = new QComboBox(this);
    preset_->setObjectName(QStringLiteral("exportPreset"));
    for (const FigurePreset& p : figurePresets())
        preset_->addItem(tr(p.name));
    preset_->addItem(tr("Custom"));
    form->addRow(tr("Figure"), preset_);
    auto* sizeRow = new QHBoxLayout;
    width_ = new QDoubleSpinBox(this);
    height_ = new QDoubleSpinBox(this);
    unit_ = new QComboBox(this);
    unit_->addItem(tr("in"), static_cast<int>(SizeUnit::Inches));
    unit_->addItem(tr("mm"), static_cast<int>(SizeUnit::Millimetres));
    unit_->addItem(tr("px"), static_cast<int>(SizeUnit::Pixels));
    sizeRow->addWidget(width_);
    sizeRow->addWidget(new QLabel(QStringLiteral("×"), this));
    sizeRow->addWidget(height_);
    sizeRow->addWidget(unit_);
    form->addRow(tr("Size"), sizeRow);
    auto* textRow = new QHBoxLayout;
    font_ = new QSpinBox(this);
    font_->setRange(5, 24);
    font_->setSuffix(tr(" pt"));
    font_->setToolTip(tr("Every text of the figure (the title one point larger); 8–9 pt suits a 3.5-inch column"));
    dpi_ = new QSpinBox(this);
    dpi_->setRange(72, 1200);
    dpi_->setSuffix(tr(" dpi"));
    dpi_->setToolTip(tr("Resolution of a PNG at a physical size"));
    textRow->addWidget(new QLabel(tr("Text"), this));
    textRow->addWidget(font_);
    textRow->addSpacing(12);
    textRow->addWidget(new QLabel(tr("PNG"), this));
    textRow->addWidget(dpi_);
    textRow->addStretch(1);
    form->addRow(QString(), textRow);
    sizeNote_ = new QLabel(this);
    useSecondaryText(sizeNote_);
    form->addRow(QString(), sizeNote_);
    if (fullResolution) {
        fullRes_ = new QCheckBox(tr("Full resolution: one row per step and token/page (as kvtier-cli view heatmap)"), this);
        fullRes_->setObjectName(QStringLiteral("exportFullResolution"));
        fullRes_->setToolTip(tr("Unchecked: the cells as pooled to the screen. Checked: every step and row (up to 8192 of "
                                "each), written in the background; large traces give large files."));
        fullRes_->setChecked(true);
        form->addRow(QString(), fullRes_);
    }

    auto* pathRow = new QHBoxLayout;
    path_ = new QLineEdit(QDir(lastDir.isEmpty() ? QDir::homePath() : lastDir).filePath(view->viewId() + QStringLiteral(".pdf")), this);
    path_->setObjectName(QStringLiteral("exportPath"));
    auto* browse = new QPushButton(tr("Browse…"), this);
    pathRow->addWidget(path_, 1);
    pathRow->addWidget(browse);
    form->addRow(tr("File"), pathRow);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this);
    form->addRow(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    format_->setCurrentIndex(1);   // PDF: what papers take
    connect(format_, &QComboBox::currentIndexChanged, this, [this] { formatChanged(); });
    connect(path_, &QLineEdit::editingFinished, this, [this] { pathEdited(); });
    connect(preset_, &QComboBox::currentIndexChanged, this, [this] { presetChosen(); });
    connect(unit_, &QComboBox::currentIndexChanged, this, [this] { unitChanged(); });
    for (QDoubleSpinBox* s : {width_, height_})
        connect(s, &QDoubleSpinBox::valueChanged, this, [this] {
            if (!preset_->signalsBlocked())
                preset_->setCurrentIndex(preset_->count() - 1);   // Custom
            unitChanged();
        });
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString ext = extensionOf(format());
        const QString p = QFileDialog::getSaveFileName(this, tr("Export to"), path_->text(),
                                                       QStringLiteral("%1 (*.%2)").arg(ext.toUpper(), ext));
        if (!p.isEmpty()) {
            path_->setText(p);
            pathEdited();
        }
    });
    presetChosen();
    formatChanged();
    resize(600, sizeHint().height());
}

void ExportDialog::presetChosen()
{
    const int i = preset_->currentIndex();
    if (i < 0 || i >= static_cast<int>(figurePresets().size()))
        return;
    const FigureSize& f = figurePresets()[static_cast<size_t>(i)].size;
    const QSignalBlocker b(preset_);
    {
        const QSignalBlocker bu(unit_);
        unit_->setCurrentIndex(unit_->findData(static_cast<int>(f.unit)));
    }
    unitChanged();
    width_->setValue(f.width);
    height_->setValue(f.height);
    if (f.physical()) {
        font_->setValue(static_cast<int>(f.font_pt));
        dpi_->setValue(f.dpi);
    }
    unitChanged();
}

void ExportDialog::unitChanged()
{
    const auto unit = static_cast<SizeUnit>(unit_->currentData().toInt());
    for (QDoubleSpinBox* s : {width_, height_}) {
        const QSignalBlocker b(s);
        switch (unit) {
        case SizeUnit::Inches: s->setRange(0.5, 40); s->setDecimals(2); s->setSingleStep(0.1); break;
        case SizeUnit::Millimetres: s->setRange(12, 1000); s->setDecimals(1); s->setSingleStep(1); break;
        case SizeUnit::Pixels: s->setRange(100, 10000); s->setDecimals(0); s->setSingleStep(10); break;
        }
    }
    const bool physical = unit != SizeUnit::Pixels, figure = format() != ExportFormat::Csv;
    font_->setEnabled(figure && physical);
    dpi_->setEnabled(figure && physical && format() == ExportFormat::Png);
    width_->setEnabled(figure);
    height_->setEnabled(figure);
    unit_->setEnabled(figure);
    preset_->setEnabled(figure);
    const FigureSize f = figureSize();
    sizeNote_->setText(!figure ? tr("CSV: the data, no figure")
                       : physical ? tr("%1 × %2 in, text %3 pt").arg(f.layoutSize().width() / 72, 0, 'f', 2).arg(f.layoutSize().height() / 72, 0, 'f', 2).arg(f.font_pt)
                                  : tr("Pixels: text as on screen"));
}

void ExportDialog::formatChanged()
{
    // The extension follows the format.
    const QFileInfo fi(path_->text());
    const QString want = extensionOf(format());
    if (fi.suffix().toLower() != want)
        path_->setText(fi.dir().filePath(fi.completeBaseName() + QLatin1Char('.') + want));
    if (fullRes_)
        fullRes_->setEnabled(format() == ExportFormat::Csv);
    unitChanged();
}

void ExportDialog::pathEdited()
{
    // The format follows a typed extension it knows.
    bool known = false;
    const ExportFormat f = formatFromExtension(QFileInfo(path_->text()).suffix(), &known);
    if (known && f != format())
        format_->setCurrentIndex(format_->findData(static_cast<int>(f)));
    else if (!known)
        formatChanged();   // no or an unknown extension: the format's is added
}

QString ExportDialog::path() const { return path_->text(); }
ExportFormat ExportDialog::format() const { return static_cast<ExportFormat>(format_->currentData().toInt()); }
bool ExportDialog::fullResolutionCsv() const { return fullRes_ && fullRes_->isChecked() && format() == ExportFormat::Csv; }

FigureSize ExportDialog::figureSize() const
{
    FigureSize f;
    f.unit = static_cast<SizeUnit>(unit_->currentData().toInt());
    f.width = width_->value();
    f.height = height_->value();
    f.font_pt = font_->value();
    f.dpi = dpi_->value();
    return f;
}

} // namespace kvtier::ui
