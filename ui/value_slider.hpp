#pragma once
// A labelled slider with an editable value and a unit: the scenario panel's building
// block. Values are in the core's units (bytes, bytes/s, plain numbers); the widget shows
// them scaled (GB, GB/s, TB/s) and maps the slider linearly, logarithmically or onto a
// list of allowed values (page sizes).
//
// The value field takes what parseQuantity() (ui/units.hpp) reads: "1.2 TB/s", "4e11",
// "450 GiB/s", "96 GB". A bare number is in the shown unit; when it only fits the range
// in the core's base units (bytes, bytes/s, as scenario files write them) it is read so
// ("4e11" in a GB/s field is 400 GB/s). Anything else, or a value outside the range, is
// refused visibly (red frame, tooltip, inputRefused()) and nothing changes.
// The wheel moves the slider only when it has focus (ui/wheel_guard.hpp).
#include "ui/units.hpp"

#include <QWidget>

#include <vector>

class QSlider;
class QLineEdit;
class QLabel;

namespace kvtier::ui {

class ValueSlider : public QWidget {
    Q_OBJECT
public:
    enum class Scale { Linear, Log, Steps };
    explicit ValueSlider(const QString& label, QWidget* parent = nullptr);

    // Display unit: value shown = value / unitScale, with `suffix` (e.g. 1e9, " GB").
    void setUnit(double unitScale, const QString& suffix, int decimals);
    // Which unit suffixes the value field accepts (default Plain).
    void setQuantity(Quantity q) { quantity_ = q; }
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
    QLineEdit* edit() const { return edit_; }
    QString label() const;
    // The slider's handle is held (a drag in progress).
    bool dragging() const;
    // The value field shows a refused entry.
    bool refused() const { return !refusal_.isEmpty(); }
    QString refusal() const { return refusal_; }

    // Reads `text` as the user typed it; returns false (and shows why) when refused.
    bool enterText(const QString& text);

public slots:
    // Sets without emitting valueChanged (programmatic updates, presets).
    void setValueSilently(double v);
    // Sets and emits, as a user edit would.
    void setValue(double v);

signals:
    // User edits only, live while dragging.
    void valueChanged(double value);
    void dragStarted();
    // The handle was released: the drag's last value was already emitted.
    void dragFinished();
    // A typed entry was refused: `message` names the field and the problem.
    void inputRefused(const QString& message);

private:
    int toSlider(double v) const;
    double fromSlider(int pos) const;
    void updateWidgets();
    QString shownText() const;
    void refuse(const QString& why);
    void clearRefusal();

    QLabel* label_;
    QSlider* slider_;
    QLineEdit* edit_;
    QString suffix_, toolTip_, refusal_;
    double min_ = 0, max_ = 1, value_ = 0;
    double unitScale_ = 1;
    int decimals_ = 2;
    Scale scale_ = Scale::Linear;
    Quantity quantity_ = Quantity::Plain;
    std::vector<double> steps_;
    bool updating_ = false;
    bool integer_ = false;
};

} // namespace kvtier::ui
