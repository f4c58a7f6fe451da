#pragma once
// Figure and data export shared by the GUI's export dialog and `kvtier --export`.
// PNG and PDF through QCustomPlot; SVG through QSvgGenerator with a QCPPainter in
// vectorized mode (QCustomPlot 2.1 has no saveSvg); heatmap images stay raster inside
// the vector files, everything else (axes, text, curves, bars) is vector.
// Figures are always drawn with the light theme: they go into papers and slides.
#include <QDialog>
#include <QSize>
#include <QString>
#include <QStringList>

class QCustomPlot;
class QComboBox;
class QSpinBox;
class QLineEdit;

namespace kvtier::ui {

class PlotView;

enum class ExportFormat { Png, Pdf, Svg, Csv };
QString extensionOf(ExportFormat f);
ExportFormat formatFromExtension(const QString& suffix, bool* ok = nullptr);

// Writes one file. `size` in pixels (PNG) or points (PDF, SVG). Returns false with a
// message naming the file on failure.
bool exportView(PlotView* view, const QString& path, ExportFormat format, QSize size, QString* error);
// Writes DIR/<view id>.png/.pdf/.svg/.csv; returns the files written.
QStringList exportViewAllFormats(PlotView* view, const QString& dir, QSize size, QString* error);

class ExportDialog : public QDialog {
    Q_OBJECT
public:
    ExportDialog(PlotView* view, const QString& lastDir, QWidget* parent = nullptr);
    QString path() const;
    ExportFormat format() const;
    QSize size() const;

private:
    void updateSuffix();
    QComboBox* format_;
    QSpinBox *width_, *height_;
    QLineEdit* path_;
};

} // namespace kvtier::ui
