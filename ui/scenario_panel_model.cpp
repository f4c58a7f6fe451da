#include "ui/scenario_panel.hpp"

#include "ui/scenario_panel_parts.hpp"
#include "ui/units.hpp"

#include <QComboBox>
#include <QFont>
#include <QFormLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QUndoStack>

#include <cmath>

// The scenario panel's model editors (L, κ, W: any trace opens, Custom is editable),
// the presets shown again when values match them, "Reset to preset", following a
// per-layer trace's layer count, and which policy is shown.

namespace kvtier::ui {

using namespace panel;

namespace {

// Equal up to rounding of typed values (one part in 1e9).
bool near(double a, double b)
{
    if (a == b)
        return true;
    return std::isfinite(a) && std::isfinite(b) && std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b));
}

bool sameTiers(const std::vector<Tier>& a, const std::vector<Tier>& b)
{
    if (a.size() != b.size())
        return false;
    for (size_t m = 0; m < a.size(); ++m)
        if (a[m].name != b[m].name || !near(a[m].capacity_bytes, b[m].capacity_bytes) || !near(a[m].bandwidth, b[m].bandwidth) ||
            !near(a[m].link_read, b[m].link_read) || !near(a[m].link_write, b[m].link_write) ||
            !near(a[m].reserve_bytes, b[m].reserve_bytes))
            return false;
    return true;
}

bool sameModel(const Model& a, const Model& b)
{
    return a.layers == b.layers && near(a.kv_bytes_per_token_layer, b.kv_bytes_per_token_layer) && near(a.weight_bytes, b.weight_bytes);
}

} // namespace

void ScenarioPanel::buildModelEditors(QWidget* box, QFormLayout* form)
{
    layers_ = new ValueSlider(tr("Layers L"), box);
    layers_->setObjectName(QStringLiteral("modelLayers"));
    layers_->setInteger(true);
    layers_->setUnit(1, QString(), 0);
    layers_->setQuantity(Quantity::Plain);
    layers_->setRange(1, 256, ValueSlider::Scale::Linear);
    layers_->setToolTipText(tr("Transformer layers; a per-layer trace needs exactly its own count"));
    kappa_ = new ValueSlider(tr("KV bytes per token and layer κ"), box);
    kappa_->setObjectName(QStringLiteral("modelKappa"));
    kappa_->setUnit(1e3, QStringLiteral(" kB"), 3);
    kappa_->setQuantity(Quantity::Bytes);
    kappa_->setRange(16, 1e7, ValueSlider::Scale::Log);
    kappa_->setToolTipText(tr("Bytes of K and V (or latent) one token adds per layer (MODEL.md §1)"));
    weights_ = new ValueSlider(tr("Weights W"), box);
    weights_->setObjectName(QStringLiteral("modelWeights"));
    weights_->setUnit(1e9, QStringLiteral(" GB"), 2);
    weights_->setQuantity(Quantity::Bytes);
    weights_->setRange(1e6, 1e13, ValueSlider::Scale::Log);
    weights_->setToolTipText(tr("Bytes of model weights, read every step; ω of them live in tier 0"));
    modelNote_ = new QLabel(box);
    modelNote_->setObjectName(QStringLiteral("modelNote"));
    modelNote_->setWordWrap(true);
    form->addRow(layers_);
    form->addRow(kappa_);
    form->addRow(weights_);
    form->addRow(modelNote_);
    connect(layers_, &ValueSlider::valueChanged, this, [this](double x) {
        scenario_.model.layers = static_cast<int32_t>(std::lround(x));
        modelEdited();
    });
    connect(kappa_, &ValueSlider::valueChanged, this, [this](double x) {
        scenario_.model.kv_bytes_per_token_layer = x;
        modelEdited();
    });
    connect(weights_, &ValueSlider::valueChanged, this, [this](double x) {
        scenario_.model.weight_bytes = x;
        modelEdited();
    });
}

void ScenarioPanel::syncModelEditors()
{
    layers_->setValueSilently(scenario_.model.layers);
    kappa_->setValueSilently(scenario_.model.kv_bytes_per_token_layer);
    weights_->setValueSilently(scenario_.model.weight_bytes);
}

void ScenarioPanel::modelEdited()
{
    if (syncing_)
        return;
    scenario_.model_preset = kCustomId;
    scenario_.model.name = kCustomId;
    modelNote_->clear();
    syncing_ = true;
    model_->setCurrentIndex(model_->count() - 1);
    syncing_ = false;
    edited();
}

// Values equal to a preset's are that preset again (the one last chosen first).
void ScenarioPanel::matchPresets()
{
    if (scenario_.hardware_preset == kCustomId) {
        const HardwarePreset* match = nullptr;
        for (const HardwarePreset& h : presets_.hardware())
            if (h.id != kCustomId && sameTiers(h.hardware.tiers, scenario_.hardware.tiers) && (!match || h.id == hardwareBase_))
                match = &h;
        if (match) {
            scenario_.hardware = match->hardware;
            scenario_.hardware_preset = match->id;
            syncing_ = true;
            hardware_->setCurrentIndex(hardware_->findData(qs(match->id)));
            syncing_ = false;
        }
    }
    if (scenario_.model_preset == kCustomId) {
        const ModelPreset* match = nullptr;
        for (const ModelPreset& m : presets_.models())
            if (sameModel(m.model, scenario_.model) && (!match || m.id == modelBase_))
                match = &m;
        if (match) {
            scenario_.model = match->model;
            scenario_.model_preset = match->id;
            syncing_ = true;
            model_->setCurrentIndex(model_->findData(qs(match->id)));
            modelInfo_->setText(tr("Editing a value below makes the model Custom"));
            syncing_ = false;
        }
    }
}

void ScenarioPanel::updateResetButton()
{
    bool differs = false;
    if (!hardwareBase_.empty()) {
        for (const HardwarePreset& h : presets_.hardware())
            if (h.id == hardwareBase_)
                differs = differs || !sameTiers(h.hardware.tiers, scenario_.hardware.tiers);
    }
    if (!modelBase_.empty()) {
        for (const ModelPreset& m : presets_.models())
            if (m.id == modelBase_)
                differs = differs || !sameModel(m.model, scenario_.model);
    }
    reset_->setEnabled(differs);
    QStringList names;
    for (const ModelPreset& m : presets_.models())
        if (m.id == modelBase_)
            names << qs(m.name);
    for (const HardwarePreset& h : presets_.hardware())
        if (h.id == hardwareBase_)
            names << qs(h.name);
    reset_->setToolTip(tr("Back to %1 (undo with Ctrl+Z)").arg(names.join(QStringLiteral(" on "))));
}

void ScenarioPanel::resetToPreset()
{
    for (const HardwarePreset& h : presets_.hardware())
        if (h.id == hardwareBase_) {
            scenario_.hardware = h.hardware;
            scenario_.hardware_preset = h.id;
        }
    for (const ModelPreset& m : presets_.models())
        if (m.id == modelBase_) {
            scenario_.model = m.model;
            scenario_.model_preset = m.id;
        }
    modelNote_->clear();
    if (tierWidgets_.size() != scenario_.hardware.tiers.size())
        buildTierWidgets();
    syncFromScenario();
    edited();
}

// A per-layer trace needs a model with as many layers: a preset when one has them, else
// Custom with that count (κ and W kept). Returns what was done, for the status bar.
QString ScenarioPanel::adaptModelToTrace(const TraceMeta& meta)
{
    QString note;
    // A selection trace is read as given: only the dense mode applies (MODEL.md §3).
    if (meta.kind == RecordKind::Selection && scenario_.selection.mode != SelectionMode::Dense) {
        modeValues_[scenario_.selection.mode] = scenario_.selection.value;
        scenario_.selection.mode = SelectionMode::Dense;
        note = tr("The trace '%1' holds selections, read as given: sparsity is now dense.").arg(qs(meta.name));
    }
    if (meta.layer_mode != LayerMode::PerLayer || meta.layers == scenario_.model.layers) {
        if (!note.isEmpty()) {
            syncFromScenario();
            modelNote_->setText(note);
        }
        return note;
    }
    if (!note.isEmpty())
        note += QLatin1Char(' ');
    const int32_t before = scenario_.model.layers;
    const ModelPreset* match = nullptr;
    for (const ModelPreset& m : presets_.models())
        if (m.model.layers == meta.layers && (!match || m.id == modelBase_))
            match = &m;
    if (match) {
        scenario_.model = match->model;
        scenario_.model_preset = match->id;
        note += tr("The trace '%1' has %2 layers: the model is now %3 (it had %4).")
                   .arg(qs(meta.name))
                   .arg(meta.layers)
                   .arg(qs(match->name))
                   .arg(before);
    } else {
        scenario_.model.layers = meta.layers;
        scenario_.model.name = kCustomId;
        scenario_.model_preset = kCustomId;
        note += tr("The trace '%1' has %2 layers and no model preset has as many: the model is now Custom with "
                  "L = %2 (κ and W kept; edit them above).")
                   .arg(qs(meta.name))
                   .arg(meta.layers);
    }
    syncFromScenario();
    modelNote_->setText(note);
    return note;
}

void ScenarioPanel::showPolicy(const QString& name)
{
    shownPolicy_ = name;
    const bool was = syncing_;
    syncing_ = true;
    for (int i = 0; i < policies_->count(); ++i) {
        QListWidgetItem* item = policies_->item(i);
        const bool shown = item->data(Qt::UserRole).toString() == name;
        QFont f = item->font();
        f.setBold(shown);
        item->setFont(f);
        if (shown)
            policies_->setCurrentRow(i);
    }
    syncing_ = was;
}

} // namespace kvtier::ui
