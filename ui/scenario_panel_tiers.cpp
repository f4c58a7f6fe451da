#include "ui/scenario_panel.hpp"

#include "ui/scenario_panel_parts.hpp"
#include "ui/theme.hpp"
#include "ui/units.hpp"
#include "ui/wheel_guard.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QListWidget>
#include <QSpinBox>
#include <QStackedWidget>
#include <QVBoxLayout>

#include <cmath>

// The scenario panel's tiers: one box of sliders per memory tier.

namespace kvtier::ui {

using namespace panel;

void ScenarioPanel::markHardwareCustom()
{
    scenario_.hardware_preset = kCustomId;
    scenario_.hardware.name = kCustomId;
    syncing_ = true;
    hardware_->setCurrentIndex(hardware_->count() - 1);
    syncing_ = false;
}

void ScenarioPanel::buildTierWidgets()
{
    for (TierWidgets& tw : tierWidgets_)
        delete tw.box;
    tierWidgets_.clear();
    for (size_t m = 0; m < scenario_.hardware.tiers.size(); ++m) {
        const Tier& tier = scenario_.hardware.tiers[m];
        TierWidgets tw;
        tw.box = new QGroupBox(tr("Tier %1 — %2").arg(m).arg(qs(tier.name)), this);
        tw.box->setFlat(true);
        auto* l = new QVBoxLayout(tw.box);
        l->setContentsMargins(4, 4, 4, 4);
        tw.capacity = new ValueSlider(tr("Capacity C"), tw.box);
        tw.capacity->setUnit(1e9, QStringLiteral(" GB"), 2);
        tw.capacity->setQuantity(Quantity::Bytes);
        tw.capacity->setRange(1e8, 4e12, ValueSlider::Scale::Log);
        tw.capacity->setObjectName(QStringLiteral("capacity%1").arg(m));
        l->addWidget(tw.capacity);
        tw.bandwidth = new ValueSlider(tr("Bandwidth B (reads + writes)"), tw.box);
        configureBandwidth(tw.bandwidth, tier.bandwidth, 1e9, 40e12);
        tw.bandwidth->setQuantity(Quantity::Bandwidth);
        tw.bandwidth->setObjectName(QStringLiteral("bandwidth%1").arg(m));
        l->addWidget(tw.bandwidth);
        const int mi = static_cast<int>(m);
        connect(tw.capacity, &ValueSlider::valueChanged, this, [this, mi](double x) {
            scenario_.hardware.tiers[static_cast<size_t>(mi)].capacity_bytes = x;
            markHardwareCustom();
            edited();
        });
        connect(tw.bandwidth, &ValueSlider::valueChanged, this, [this, mi](double x) {
            scenario_.hardware.tiers[static_cast<size_t>(mi)].bandwidth = x;
            markHardwareCustom();
            edited();
        });
        if (std::isfinite(tier.link_read) || std::isfinite(tier.link_write)) {
            tw.linkRead = new ValueSlider(tr("Link to GPU, read Lr"), tw.box);
            tw.linkRead->setUnit(1e9, QStringLiteral(" GB/s"), 1);
            tw.linkRead->setQuantity(Quantity::Bandwidth);
            tw.linkRead->setRange(1e9, 4e12, ValueSlider::Scale::Log);
            tw.linkRead->setObjectName(QStringLiteral("linkRead%1").arg(m));
            l->addWidget(tw.linkRead);
            tw.linkWrite = new ValueSlider(tr("Link from GPU, write Lw"), tw.box);
            tw.linkWrite->setUnit(1e9, QStringLiteral(" GB/s"), 1);
            tw.linkWrite->setQuantity(Quantity::Bandwidth);
            tw.linkWrite->setRange(1e9, 4e12, ValueSlider::Scale::Log);
            tw.linkWrite->setObjectName(QStringLiteral("linkWrite%1").arg(m));
            l->addWidget(tw.linkWrite);
            connect(tw.linkRead, &ValueSlider::valueChanged, this, [this, mi](double x) {
                scenario_.hardware.tiers[static_cast<size_t>(mi)].link_read = x;
                markHardwareCustom();
                edited();
            });
            connect(tw.linkWrite, &ValueSlider::valueChanged, this, [this, mi](double x) {
                scenario_.hardware.tiers[static_cast<size_t>(mi)].link_write = x;
                markHardwareCustom();
                edited();
            });
        } else {
            auto* note = new QLabel(tr("On package: no link limit"), tw.box);
            useSecondaryText(note);
            l->addWidget(note);
        }
        tierLayout_->addWidget(tw.box);
        for (ValueSlider* s : tw.box->findChildren<ValueSlider*>())
            wireSlider(s);
        WheelGuard::guard(tw.box);
        tierWidgets_.push_back(tw);
    }
}

ValueSlider* ScenarioPanel::capacitySlider(int tier) const
{
    return tier < tierCount() ? tierWidgets_[static_cast<size_t>(tier)].capacity : nullptr;
}
ValueSlider* ScenarioPanel::bandwidthSlider(int tier) const
{
    return tier < tierCount() ? tierWidgets_[static_cast<size_t>(tier)].bandwidth : nullptr;
}
ValueSlider* ScenarioPanel::linkReadSlider(int tier) const
{
    return tier < tierCount() ? tierWidgets_[static_cast<size_t>(tier)].linkRead : nullptr;
}
ValueSlider* ScenarioPanel::linkWriteSlider(int tier) const
{
    return tier < tierCount() ? tierWidgets_[static_cast<size_t>(tier)].linkWrite : nullptr;
}

} // namespace kvtier::ui
