#include "ui/scenario_panel.hpp"

#include "ui/scenario_panel_parts.hpp"

#include <QCoreApplication>
#include <QUndoCommand>
#include <QUndoStack>

#include <functional>

// The scenario panel's history: one QUndoCommand per change, holding the scenario before
// and after (scenarios are small), named after what changed.

namespace kvtier::ui {

using namespace panel;

namespace {

QString tierName(const Scenario& s, size_t m)
{
    return m < s.hardware.tiers.size() ? qs(s.hardware.tiers[m].name) : QStringLiteral("tier %1").arg(m);
}

// A short name for the change from `a` to `b`, for "Undo <name>".
QString describeChange(const Scenario& a, const Scenario& b)
{
    auto tr = [](const char* t) { return QCoreApplication::translate("ScenarioPanel", t); };
    if (a.trace_db != b.trace_db || a.trace_name != b.trace_name)
        return tr("trace");
    if (a.hardware.tiers.size() == b.hardware.tiers.size() && a.hardware_preset == b.hardware_preset) {
        for (size_t m = 0; m < a.hardware.tiers.size(); ++m) {
            const Tier &x = a.hardware.tiers[m], &y = b.hardware.tiers[m];
            if (x.capacity_bytes != y.capacity_bytes)
                return tr("%1 capacity").arg(tierName(b, m));
            if (x.bandwidth != y.bandwidth)
                return tr("%1 bandwidth").arg(tierName(b, m));
            if (x.link_read != y.link_read || x.link_write != y.link_write)
                return tr("%1 link").arg(tierName(b, m));
        }
    }
    if (!(a.hardware == b.hardware) || a.hardware_preset != b.hardware_preset)
        return tr("hardware");
    if (!(a.model == b.model) || a.model_preset != b.model_preset)
        return tr("model");
    if (a.selection.mode != b.selection.mode)
        return tr("sparsity mode");
    if (a.selection.value != b.selection.value)
        return tr("sparsity budget");
    if (!(a.selection == b.selection))
        return tr("sinks, window or page size");
    if (!(a.policies == b.policies))
        return tr("policies");
    if (a.batch != b.batch)
        return tr("batch");
    if (a.weights_in_fast_tier != b.weights_in_fast_tier)
        return tr("weights in HBM");
    if (a.experts.policy != b.experts.policy)
        return tr("expert policy");
    if (a.experts.hbm_share != b.experts.hbm_share)
        return tr("HBM share for experts");
    return tr("placement settings");
}

class ScenarioChange : public QUndoCommand {
public:
    ScenarioChange(std::function<void(const Scenario&)> apply, Scenario before, Scenario after)
        : QUndoCommand(describeChange(before, after)), apply_(std::move(apply)), before_(std::move(before)),
          after_(std::move(after))
    {
    }
    void undo() override { apply_(before_); }
    void redo() override
    {
        // The first redo is the push: the panel already shows `after`.
        if (pushed_)
            apply_(after_);
        pushed_ = true;
    }

private:
    std::function<void(const Scenario&)> apply_;
    Scenario before_, after_;
    bool pushed_ = false;
};

} // namespace

void ScenarioPanel::commit()
{
    if (!haveCommitted_) {
        committed_ = scenario_;
        haveCommitted_ = true;
        return;
    }
    if (scenario_ == committed_)
        return;
    history_->push(new ScenarioChange([this](const Scenario& s) { applyFromHistory(s); }, committed_, scenario_));
    committed_ = scenario_;
}

void ScenarioPanel::applyFromHistory(const Scenario& s)
{
    scenario_ = s;
    committed_ = s;
    if (s.selection.mode != SelectionMode::Dense)
        modeValues_[s.selection.mode] = s.selection.value;
    if (tierWidgets_.size() != s.hardware.tiers.size())
        buildTierWidgets();
    syncFromScenario();
    emit scenarioChanged();
}

} // namespace kvtier::ui
