#pragma once
// Figure and data export shared by the GUI's export dialog and `kvtier --export`.
// PNG and PDF through QCustomPlot; SVG through QSvgGenerator with a QCPPainter in
// vectorized mode (QCustomPlot 2.1 has no saveSvg); heatmap images stay raster inside
// the vector files, everything else (axes, text, curves, bars) is vector.
// Figures are always drawn with the light theme: they go into papers and slides; they
// leave out what talks to the user on screen (PlotView::markScreenOnly, screen-only title
// parts) and name the trace, model and hardware in a caption line.
//
// A figure has a size in pixels (as on screen) or a physical size (mm or inches) with a
// font size in points: the plot is laid out in points (1/72 in), every text of it set to
// that size, PDF and SVG pages are that many points, and PNG is rendered at `dpi`. So a
// 3.5-inch figure at 8 pt has 8 pt text when printed at 3.5 inches.
//
// Nothing is overwritten and no folder is created unless asked (overwrite; the caller
// creates folders explicitly).
#include <QDialog>
#include <QSize>
#include <QSizeF>
#include <QString>
#include <QStringList>

class QCustomPlot;
class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSpinBox;
class QLineEdit;

namespace kvtier::ui {

class PlotView;

enum class ExportFormat { Png, Pdf, Svg, Csv };
QString extensionOf(ExportFormat f);
ExportFormat formatFromExtension(const QString& suffix, bool* ok = nullptr);

enum class SizeUnit { Pixels, Millimetres, Inches };

struct FigureSize {
    double width = 1200, height = 750;
    SizeUnit unit = SizeUnit::Pixels;
    double font_pt = 8;   // physical sizes: every text of the figure (the title one point more)
    int dpi = 300;        // physical sizes: PNG resolution

    bool physical() const { return unit != SizeUnit::Pixels; }
    // The layout size: pixels, or points (1/72 in) for a physical size.
    QSizeF layoutSize() const;
    double widthInches() const;   // physical sizes only
    static FigureSize pixels(QSize s);
    static FigureSize inches(double w, double h, double fontPt = 8);
    static FigureSize millimetres(double w, double h, double fontPt = 8);
};

// Paper presets: a column of a two-column paper (3.5 in, IEEE/ACM) and the full width
// (7.16 in), at 8 pt; the height is 0.62 of the width.
struct FigurePreset {
    const char* name;
    FigureSize size;
};
const std::vector<FigurePreset>& figurePresets();

struct ExportOptions {
    FigureSize size;
    QString caption;          // "trace long-context · Llama-3-8B · GH200 ..." under the figure; empty: none
    bool overwrite = false;   // replace an existing file (else: an error naming it)
    static ExportOptions pixels(QSize s, bool overwrite = true);
};

// Writes one file. Returns false with a message naming the file on failure: an existing
// file without overwrite, a missing folder, nothing to write. Titles and the caption wrap
// to the width; when the rows need more height than given the figure is made taller (in
// layout units: `heightRaised`, else left alone), so nothing is clipped or overlaps.
bool exportView(PlotView* view, const QString& path, ExportFormat format, const ExportOptions& options, QString* error,
                int* heightRaised = nullptr);
// Pixel size, overwriting (the earlier interface).
bool exportView(PlotView* view, const QString& path, ExportFormat format, QSize size, QString* error);
// Writes DIR/<view id>.png/.pdf/.svg/.csv; returns the files written.
QStringList exportViewAllFormats(PlotView* view, const QString& dir, const ExportOptions& options, QString* error);
// The files exportViewAllFormats would write.
QStringList exportFileNames(PlotView* view, const QString& dir);

class ExportDialog : public QDialog {
    Q_OBJECT
public:
    // `fullResolution`: the view has a heatmap that can be written per step and row.
    ExportDialog(PlotView* view, const QString& lastDir, bool fullResolution, QWidget* parent = nullptr);
    QString path() const;
    ExportFormat format() const;
    FigureSize figureSize() const;
    bool fullResolutionCsv() const;
    // Tests drive the dialog through these.
    QComboBox* formatBox() const { return format_; }
    QComboBox* presetBox() const { return preset_; }
    QLineEdit* pathEdit() const { return path_; }

private:
    void formatChanged();
    void pathEdited();
    void unitChanged();
    void presetChosen();
    QComboBox *format_, *preset_, *unit_;
    QDoubleSpinBox *width_, *height_;
    QSpinBox *font_, *dpi_;
    QCheckBox* fullRes_ = nullptr;
    QLineEdit* path_;
    QLabel* sizeNote_;
};

} // namespace kvtier::ui
