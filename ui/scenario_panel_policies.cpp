#include "ui/scenario_panel.hpp"

#include "ui/scenario_panel_parts.hpp"
#include "ui/units.hpp"

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

// The scenario panel's policy list and each policy's parameter editors.

namespace kvtier::ui {

using namespace panel;

QWidget* ScenarioPanel::buildPolicyParams(const PolicyInfo& info)
{
    auto* w = new QWidget(policyParamsStack_);
    auto* form = new QFormLayout(w);
    form->setContentsMargins(0, 0, 0, 0);
    const std::string name = info.name;
    for (const ParamSpec& spec : info.params) {
        const std::string key = spec.key;
        QWidget* editor = nullptr;
        // Every kind of editor stores its value the same way.
        auto setParam = [this, name, key](double x) {
            if (syncing_)
                return;
            policyParams_[name][key] = x;
            rebuildPolicySpecs();
            edited();
        };
        switch (spec.type) {
        case ParamSpec::Type::Int: {
            auto* sb = new QSpinBox(w);
            sb->setRange(static_cast<int>(spec.min), static_cast<int>(std::min(spec.max, 2.0e9)));
            sb->setValue(static_cast<int>(spec.def));
            sb->setKeyboardTracking(false);
            connect(sb, &QSpinBox::valueChanged, this, [setParam](int x) { setParam(x); });
            editor = sb;
            break;
        }
        case ParamSpec::Type::Double: {
            auto* sb = new QDoubleSpinBox(w);
            sb->setDecimals(4);
            sb->setRange(spec.min, spec.max);
            sb->setSingleStep((spec.max - spec.min) / 100.0);
            sb->setValue(spec.def);
            sb->setKeyboardTracking(false);
            connect(sb, &QDoubleSpinBox::valueChanged, this, setParam);
            editor = sb;
            break;
        }
        case ParamSpec::Type::Bool: {
            auto* cb = new QCheckBox(w);
            cb->setChecked(spec.def != 0);
            connect(cb, &QCheckBox::toggled, this, [setParam](bool on) { setParam(on ? 1.0 : 0.0); });
            editor = cb;
            break;
        }
        case ParamSpec::Type::Choice: {
            auto* co = new QComboBox(w);
            for (const std::string& c : spec.choices)
                co->addItem(qs(c));
            co->setCurrentIndex(static_cast<int>(spec.def));
            connect(co, &QComboBox::currentIndexChanged, this, [setParam](int i) {
                if (i >= 0)
                    setParam(i);
            });
            editor = co;
            break;
        }
        }
        editor->setObjectName(qs("param:" + name + ":" + key));
        editor->setToolTip(qs(spec.help));
        paramEditors_[name].push_back(editor);
        auto* label = new QLabel(qs(spec.label), w);
        label->setToolTip(qs(spec.help));
        label->setWordWrap(true);
        form->addRow(label, editor);
    }
    if (info.params.empty())
        form->addRow(new QLabel(tr("No parameters."), w));
    return w;
}

void ScenarioPanel::rebuildPolicySpecs()
{
    std::vector<PolicySpec> specs;
    for (int i = 0; i < policies_->count(); ++i) {
        QListWidgetItem* item = policies_->item(i);
        if (item->checkState() != Qt::Checked)
            continue;
        const std::string name = item->data(Qt::UserRole).toString().toStdString();
        specs.push_back({name, policyParams_[name]});
    }
    scenario_.policies = std::move(specs);
}

void ScenarioPanel::syncPolicies()
{
    syncing_ = true;
    for (const PolicySpec& p : scenario_.policies)
        for (const auto& [k, val] : p.params)
            policyParams_[p.name][k] = val;
    for (int i = 0; i < policies_->count(); ++i) {
        QListWidgetItem* item = policies_->item(i);
        const std::string name = item->data(Qt::UserRole).toString().toStdString();
        bool on = false;
        for (const PolicySpec& p : scenario_.policies)
            on = on || p.name == name;
        item->setCheckState(on ? Qt::Checked : Qt::Unchecked);
        const PolicyInfo& info = policyRegistry()[static_cast<size_t>(i)].info;
        const auto& editors = paramEditors_[name];
        for (size_t k = 0; k < info.params.size() && k < editors.size(); ++k) {
            const double val = policyParams_[name][info.params[k].key];
            if (auto* sb = qobject_cast<QSpinBox*>(editors[k]))
                sb->setValue(static_cast<int>(val));
            else if (auto* db = qobject_cast<QDoubleSpinBox*>(editors[k]))
                db->setValue(val);
            else if (auto* cb = qobject_cast<QCheckBox*>(editors[k]))
                cb->setChecked(val != 0);
            else if (auto* co = qobject_cast<QComboBox*>(editors[k]))
                co->setCurrentIndex(static_cast<int>(val));
        }
    }
    if (policies_->currentRow() < 0 && policies_->count() > 0)
        policies_->setCurrentRow(0);
    syncing_ = false;
}

} // namespace kvtier::ui
