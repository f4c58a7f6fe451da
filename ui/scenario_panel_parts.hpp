#pragma once
// Small helpers the files of the scenario panel share (scenario_panel.cpp: layout and
// syncing; scenario_panel_policies.cpp: the policy list and parameters;
// scenario_panel_tiers.cpp: the tier sliders). Internal to ui/.
#include "ui/value_slider.hpp"

#include <QGroupBox>
#include <QString>

#include <string>
#include <vector>

namespace kvtier::ui::panel {

inline constexpr const char* kCustomId = "custom";

inline QString qs(const std::string& s) { return QString::fromStdString(s); }

inline std::vector<double> powersOfTwo(double lo, double hi, bool withZero)
{
    std::vector<double> v;
    if (withZero)
        v.push_back(0);
    for (double x = lo; x <= hi; x *= 2)
        v.push_back(x);
    return v;
}

inline QGroupBox* group(const QString& title, QWidget* parent)
{
    auto* g = new QGroupBox(title, parent);
    return g;
}

// Bandwidth sliders show TB/s for HBM-class figures and GB/s below.
inline void configureBandwidth(ValueSlider* s, double value, double min, double max)
{
    if (value >= 1e12)
        s->setUnit(1e12, QStringLiteral(" TB/s"), 2);
    else
        s->setUnit(1e9, QStringLiteral(" GB/s"), 1);
    s->setRange(min, max, ValueSlider::Scale::Log);
}

} // namespace kvtier::ui::panel
