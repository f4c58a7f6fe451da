#include "ui/value_slider.hpp"

#include "ui/wheel_guard.hpp"

#include <QGridLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QSlider>

#include <functional>

#include <algorithm>
#include <cmath>

namespace kvtier::ui {

namespace {
constexpr int kSliderSteps = 1000;

// Shown with `decimals` at most, trailing zeros dropped ("500 GB/s", "4.9 TB/s").
QString trimmedNumber(double x, int decimals)
{
    QString s = QString::number(x, 'f', std::max(0, decimals));
    if (s.contains(QLatin1Char('.'))) {
        while (s.endsWith(QLatin1Char('0')))
            s.chop(1);
        if (s.endsWith(QLatin1Char('.')))
            s.chop(1);
    }
    if (s == QLatin1String("-0"))
        s = QStringLiteral("0");
    return s;
}

// Escape in the value field puts the shown value back.
class EscapeFilter : public QObject {
public:
    EscapeFilter(QObject* parent, std::function<void()> onEscape) : QObject(parent), onEscape_(std::move(onEscape)) {}
    bool eventFilter(QObject*, QEvent* e) override
    {
        if (e->type() == QEvent::KeyPress && static_cast<QKeyEvent*>(e)->key() == Qt::Key_Escape) {
            onEscape_();
            return true;
        }
        return false;
    }

private:
    std::function<void()> onEscape_;
};

} // namespace

ValueSlider::ValueSlider(const QString& label, QWidget* parent)
    : QWidget(parent), label_(new QLabel(label, this)), slider_(new QSlider(Qt::Horizontal, this)),
      edit_(new QLineEdit(this))
{
    auto* grid = new QGridLayout(this);
    grid->setContentsMargins(0, 2, 0, 2);
    grid->setHorizontalSpacing(6);
    grid->setVerticalSpacing(1);
    grid->addWidget(label_, 0, 0, 1, 2);
    grid->addWidget(slider_, 1, 0);
    grid->addWidget(edit_, 1, 1);
    grid->setColumnStretch(0, 1);
    slider_->setRange(0, kSliderSteps);
    slider_->setSingleStep(10);
    slider_->setPageStep(100);
    slider_->setFocusPolicy(Qt::StrongFocus);
    edit_->setAlignment(Qt::AlignRight);
    edit_->setMinimumWidth(92);
    edit_->setMaximumWidth(120);
    edit_->setObjectName(QStringLiteral("valueEdit"));
    edit_->installEventFilter(new EscapeFilter(edit_, [this] {
        clearRefusal();
        updateWidgets();
    }));
    setObjectName(label);
    WheelGuard::guard(slider_);

    connect(slider_, &QSlider::valueChanged, this, [this](int pos) {
        if (updating_)
            return;
        double v = fromSlider(pos);
        if (integer_)
            v = std::round(v);
        if (v == value_)
            return;
        value_ = v;
        clearRefusal();
        updating_ = true;
        edit_->setText(shownText());
        updating_ = false;
        emit valueChanged(value_);
    });
    connect(slider_, &QSlider::sliderPressed, this, &ValueSlider::dragStarted);
    connect(slider_, &QSlider::sliderReleased, this, &ValueSlider::dragFinished);
    connect(edit_, &QLineEdit::editingFinished, this, [this] {
        if (updating_ || !edit_->isModified())
            return;
        edit_->setModified(false);
        enterText(edit_->text());
    });
}

QString ValueSlider::label() const { return label_->text(); }

bool ValueSlider::dragging() const { return slider_->isSliderDown(); }

QString ValueSlider::shownText() const { return trimmedNumber(value_ / unitScale_, decimals_) + suffix_; }

void ValueSlider::setUnit(double unitScale, const QString& suffix, int decimals)
{
    unitScale_ = unitScale > 0 ? unitScale : 1;
    suffix_ = suffix;
    decimals_ = decimals;
    updateWidgets();
}

void ValueSlider::setRange(double min, double max, Scale scale)
{
    min_ = std::min(min, max);
    max_ = std::max(min, max);
    scale_ = scale;
    if (scale_ == Scale::Log && min_ <= 0)
        min_ = max_ * 1e-4;
    value_ = std::clamp(value_, min_, max_);
    updateWidgets();
}

void ValueSlider::setSteps(const std::vector<double>& values)
{
    steps_ = values;
    std::sort(steps_.begin(), steps_.end());
    if (steps_.empty())
        steps_ = {0};
    scale_ = Scale::Steps;
    min_ = steps_.front();
    max_ = steps_.back();
    updateWidgets();
}

void ValueSlider::setToolTipText(const QString& text)
{
    toolTip_ = text;
    label_->setToolTip(text);
    slider_->setToolTip(text);
    if (!refused())
        edit_->setToolTip(text);
}

int ValueSlider::toSlider(double v) const
{
    double f = 0;
    switch (scale_) {
    case Scale::Linear: f = max_ > min_ ? (v - min_) / (max_ - min_) : 0; break;
    case Scale::Log: f = max_ > min_ ? std::log(std::max(v, min_) / min_) / std::log(max_ / min_) : 0; break;
    case Scale::Steps: {
        const auto it = std::lower_bound(steps_.begin(), steps_.end(), v);
        const size_t i = static_cast<size_t>(std::min<ptrdiff_t>(it - steps_.begin(), static_cast<ptrdiff_t>(steps_.size()) - 1));
        return static_cast<int>(i);
    }
    }
    return static_cast<int>(std::lround(std::clamp(f, 0.0, 1.0) * kSliderSteps));
}

double ValueSlider::fromSlider(int pos) const
{
    const double f = static_cast<double>(pos) / kSliderSteps;
    switch (scale_) {
    case Scale::Linear: return min_ + f * (max_ - min_);
    case Scale::Log: return min_ * std::pow(max_ / min_, f);
    case Scale::Steps: return steps_[static_cast<size_t>(std::clamp<int>(pos, 0, static_cast<int>(steps_.size()) - 1))];
    }
    return min_;
}

void ValueSlider::updateWidgets()
{
    updating_ = true;
    if (scale_ == Scale::Steps) {
        slider_->setRange(0, static_cast<int>(steps_.size()) - 1);
        slider_->setSingleStep(1);
        slider_->setPageStep(1);
    } else {
        slider_->setRange(0, kSliderSteps);
        slider_->setSingleStep(10);
        slider_->setPageStep(100);
    }
    // A refused entry stays in the field, for the user to correct.
    if (!refused())
        edit_->setText(shownText());
    slider_->setValue(toSlider(value_));
    updating_ = false;
}

void ValueSlider::refuse(const QString& why)
{
    refusal_ = why;
    edit_->setProperty("refused", true);
    edit_->setStyleSheet(QStringLiteral("QLineEdit { border: 2px solid #d32f2f; border-radius: 3px; }"));
    edit_->setToolTip(tr("Not applied: %1").arg(why));
    emit inputRefused(tr("%1: not applied — %2").arg(label(), why));
}

void ValueSlider::clearRefusal()
{
    if (refusal_.isEmpty())
        return;
    refusal_.clear();
    edit_->setProperty("refused", false);
    edit_->setStyleSheet(QString());
    edit_->setToolTip(toolTip_);
}

bool ValueSlider::enterText(const QString& text)
{
    edit_->setText(text);
    const ParsedQuantity p = parseQuantity(text, quantity_, unitScale_);
    if (!p.ok) {
        refuse(p.error);
        return false;
    }
    // Tolerance of one part in 1e9: "4.9 TB/s" typed into a field whose maximum is 4.9e12.
    auto fits = [this](double v) { return v >= min_ * (1 - 1e-9) && v <= max_ * (1 + 1e-9); };
    double v = p.value;
    if (!p.hadUnit && !fits(v) && unitScale_ != 1) {
        // A bare number that only fits in base units (bytes, bytes/s): "4e11" B/s.
        const double base = v / unitScale_;
        if (fits(base))
            v = base;
    }
    auto shown = [this](double x) { return trimmedNumber(x / unitScale_, std::max(decimals_, 4)) + suffix_; };
    if (v < min_ * (1 - 1e-9)) {
        refuse(tr("%1 is below the minimum, %2").arg(text.trimmed(), shown(min_)));
        return false;
    }
    if (v > max_ * (1 + 1e-9)) {
        refuse(tr("%1 is above the maximum, %2").arg(text.trimmed(), shown(max_)));
        return false;
    }
    v = std::clamp(v, min_, max_);
    if (integer_ && std::fabs(v - std::round(v)) > 1e-9 * std::max(1.0, std::fabs(v))) {
        refuse(tr("%1 is not a whole number").arg(text.trimmed()));
        return false;
    }
    clearRefusal();
    const double before = value_;
    setValue(v);
    if (value_ == before)
        updateWidgets();   // the same value, maybe typed otherwise: show it as the others are
    return true;
}

void ValueSlider::setValueSilently(double v)
{
    clearRefusal();
    if (v > max_)
        max_ = v;   // a preset beyond the range widens it rather than clipping silently
    if (v < min_)
        min_ = (scale_ == Scale::Log && v <= 0) ? min_ : v;
    value_ = std::clamp(v, min_, max_);
    if (scale_ == Scale::Steps && std::find(steps_.begin(), steps_.end(), value_) == steps_.end()) {
        steps_.push_back(value_);
        std::sort(steps_.begin(), steps_.end());
    }
    updateWidgets();
}

void ValueSlider::setValue(double v)
{
    v = std::clamp(v, min_, max_);
    if (integer_)
        v = std::round(v);
    if (scale_ == Scale::Steps && std::find(steps_.begin(), steps_.end(), v) == steps_.end()) {
        steps_.push_back(v);   // a typed value between the presets stays exact
        std::sort(steps_.begin(), steps_.end());
    }
    if (v == value_)
        return;
    value_ = v;
    clearRefusal();
    updateWidgets();
    emit valueChanged(value_);
}

} // namespace kvtier::ui
