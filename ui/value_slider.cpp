#include "ui/value_slider.hpp"

#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QLabel>
#include <QSlider>

#include <algorithm>
#include <cmath>

namespace kvtier::ui {

namespace {
constexpr int kSliderSteps = 1000;
}

ValueSlider::ValueSlider(const QString& label, QWidget* parent)
    : QWidget(parent), label_(new QLabel(label, this)), slider_(new QSlider(Qt::Horizontal, this)),
      spin_(new QDoubleSpinBox(this))
{
    auto* grid = new QGridLayout(this);
    grid->setContentsMargins(0, 2, 0, 2);
    grid->setHorizontalSpacing(6);
    grid->setVerticalSpacing(1);
    grid->addWidget(label_, 0, 0, 1, 2);
    grid->addWidget(slider_, 1, 0);
    grid->addWidget(spin_, 1, 1);
    grid->setColumnStretch(0, 1);
    slider_->setRange(0, kSliderSteps);
    slider_->setSingleStep(10);
    slider_->setPageStep(100);
    spin_->setKeyboardTracking(false);
    spin_->setAlignment(Qt::AlignRight);
    spin_->setMinimumWidth(92);
    spin_->setButtonSymbols(QAbstractSpinBox::NoButtons);
    setObjectName(label);

    connect(slider_, &QSlider::valueChanged, this, [this](int pos) {
        if (updating_)
            return;
        double v = fromSlider(pos);
        if (integer_)
            v = std::round(v);
        if (v == value_)
            return;
        value_ = v;
        updating_ = true;
        spin_->setValue(value_ / unitScale_);
        updating_ = false;
        emit valueChanged(value_);
    });
    connect(spin_, &QDoubleSpinBox::valueChanged, this, [this](double shown) {
        if (updating_)
            return;
        setValue(shown * unitScale_);
    });
}

QString ValueSlider::label() const { return label_->text(); }

void ValueSlider::setUnit(double unitScale, const QString& suffix, int decimals)
{
    unitScale_ = unitScale > 0 ? unitScale : 1;
    updating_ = true;
    spin_->setDecimals(decimals);
    spin_->setSuffix(suffix);
    updating_ = false;
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
    label_->setToolTip(text);
    slider_->setToolTip(text);
    spin_->setToolTip(text);
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
    spin_->setRange(min_ / unitScale_, max_ / unitScale_);
    spin_->setValue(value_ / unitScale_);
    slider_->setValue(toSlider(value_));
    updating_ = false;
}

void ValueSlider::setValueSilently(double v)
{
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
    updateWidgets();
    emit valueChanged(value_);
}

} // namespace kvtier::ui
