#pragma once
// A labelled slider with an editable value and a unit: the scenario panel's building
// block. Values are in the core's units (bytes, bytes/s, plain numbers); the widget shows
// them scaled (GB, GB/s, TB/s) and maps the slider linearly, logarithmically or onto a
// list of allowed values (page sizes).
#include <QWidget>

#include <vector>

class QSlider;
class QDoubleSpinBox;
class QLabel;

namespace kvtier::ui {

class ValueSlider : public QWidget {
    Q_OBJECT
public:
    enum class Scale { Linear, Log, Steps };
    explicit ValueSlider(const QString& label, QWidget* parent = nullptr);

    // Display unit: value shown = value / unitScale, with `suffix` (e.g. 1e9, " GB").
    void setUnit(double unitScale, const QString& suffix, int decimals);
    void setRange(double min, double max, Scale scale = Scale::Linear);
    // Steps scale: the slider snaps to these values (ascending).
    void setSteps(const std::vector<double>& values);
    void setToolTipText(const QString& text);
    // Integer quantities (tokens, batch): values are rounded.
    void setInteger(bool on) { integer_ = on; }

    double value() const { return value_; }
    double minimum() const { return min_; }
    double maximum() const { return max_; }
    QSlider* slider() const { return slider_; }
    QDoubleSpinBox* spinBox() const { return spin_; }
    QString label() const;

public slots:
    // Sets without emitting valueChanged (programmatic updates, presets).
    void setValueSilently(double v);
    // Sets and emits, as a user edit would.
    void setValue(double v);

signals:
    // User edits only, live while dragging.
    void valueChanged(double value);

private:
    int toSlider(double v) const;
    double fromSlider(int pos) const;
    void updateWidgets();

    QLabel* label_;
    QSlider* slider_;
    QDoubleSpinBox* spin_;
    double min_ = 0, max_ = 1, value_ = 0;
    double unitScale_ = 1;
    Scale scale_ = Scale::Linear;
    std::vector<double> steps_;
    bool updating_ = false;
    bool integer_ = false;
};

} // namespace kvtier::ui
