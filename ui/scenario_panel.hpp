#pragma once
// The scenario dock: trace, model and hardware presets, one slider per knob of MODEL.md,
// and the policy list with each policy's parameters built from its ParamSpec list.
// It owns the Scenario being edited and emits scenarioChanged() on every user edit;
// programmatic updates (setScenario) are silent. Every change is one step of history()
// (a slider drag is one step, committed on release); Ctrl+Z / Ctrl+Shift+Z walk it.
// Values that match a preset again are shown as that preset; "Reset to preset" goes back
// to the last preset chosen. Each sparsity mode keeps its last budget. A model with experts
// (E > 0) shows the Experts group: the expert residency policy and tier 0's share for
// experts (the scenario's "experts" section, scenario_panel_experts.cpp).
#include "core/config/presets.hpp"
#include "core/model/scenario.hpp"
#include "core/policies/policy.hpp"
#include "core/store/trace_store.hpp"

#include <QWidget>

#include <map>
#include <vector>

class QCheckBox;
class QComboBox;
class QLabel;
class QListWidget;
class QStackedWidget;
class QVBoxLayout;
class QGroupBox;
class QPushButton;
class QUndoStack;
class QFormLayout;

namespace kvtier::ui {

class ValueSlider;

class ScenarioPanel : public QWidget {
    Q_OBJECT
public:
    explicit ScenarioPanel(const PresetLibrary& presets, QWidget* parent = nullptr);

    const Scenario& scenario() const { return scenario_; }
    void setScenario(const Scenario& s);
    // Lists the traces of the open database; selects `current` when present.
    // When `current` is a per-layer trace whose layer count the model does not have, the
    // model follows it (a preset with as many layers, else Custom with that count) and
    // notice() says so.
    void setTraces(const QString& dbPath, const std::vector<TraceSummary>& traces, const QString& current);

    // The scenario history (undo/redo); the window puts its actions in the Edit menu.
    QUndoStack* history() const { return history_; }
    // Back to the hardware and model presets last chosen (an undoable step).
    void resetToPreset();
    // Marks `name` as the policy the views show and selects it for editing (silent).
    void showPolicy(const QString& name);
    // A slider's handle is held: the window lets running analyses finish (live drag).
    bool dragging() const;

    // For tests and the latency benchmark.
    ValueSlider* capacitySlider(int tier) const;
    ValueSlider* bandwidthSlider(int tier) const;
    ValueSlider* linkReadSlider(int tier) const;
    ValueSlider* linkWriteSlider(int tier) const;
    ValueSlider* sparsitySlider() const { return sparsity_; }
    ValueSlider* sinksSlider() const { return sinks_; }
    ValueSlider* windowSlider() const { return window_; }
    ValueSlider* pageSlider() const { return page_; }
    ValueSlider* batchSlider() const { return batch_; }
    ValueSlider* omegaSlider() const { return omega_; }
    ValueSlider* layersSlider() const { return layers_; }
    ValueSlider* kappaSlider() const { return kappa_; }
    ValueSlider* weightsSlider() const { return weights_; }
    QPushButton* resetButton() const { return reset_; }
    QLabel* modelNote() const { return modelNote_; }
    QComboBox* modeCombo() const { return mode_; }
    QComboBox* hardwareCombo() const { return hardware_; }
    QComboBox* modelCombo() const { return model_; }
    QComboBox* traceCombo() const { return trace_; }
    QComboBox* routeCombo() const { return route_; }
    QCheckBox* inclusiveCheck() const { return inclusive_; }
    // The Experts group (hidden for dense models), its policy combo (data: the policy's
    // name), the share slider (0..1, shown in %) and the hint under it.
    QGroupBox* expertsGroup() const { return expertsBox_; }
    QComboBox* expertPolicyCombo() const { return expertPolicy_; }
    ValueSlider* expertShareSlider() const { return expertShare_; }
    QLabel* expertShareHint() const { return expertHint_; }
    QListWidget* policyList() const { return policies_; }
    int tierCount() const { return static_cast<int>(tierWidgets_.size()); }

signals:
    void scenarioChanged();
    void traceSelected(const QString& name);
    void openDatabaseRequested();
    // A policy was clicked in the list: show it (one gesture selects and shows).
    void policyFocused(const QString& name);
    // Something the user should read in the status bar (a refused entry, a model switch).
    void notice(const QString& message);
    // A slider's handle was released (its value was already sent by scenarioChanged).
    void dragEnded();

private:
    struct TierWidgets {
        QGroupBox* box = nullptr;
        ValueSlider *capacity = nullptr, *bandwidth = nullptr, *linkRead = nullptr, *linkWrite = nullptr;
    };
    void buildTierWidgets();
    void syncFromScenario();
    void syncPolicies();
    void configureSparsitySlider();
    void markHardwareCustom();
    void edited();
    // History: records the change since the last step (nothing when equal).
    void commit();
    void applyFromHistory(const Scenario& s);
    void wireSlider(ValueSlider* s);
    // Model editors (scenario_panel_model.cpp).
    void buildModelEditors(QWidget* box, QFormLayout* form);
    void syncModelEditors();
    void modelEdited();
    void matchPresets();
    QString adaptModelToTrace(const TraceMeta& meta);
    void updateResetButton();
    // Experts editors (scenario_panel_experts.cpp).
    void buildExpertEditors(QWidget* content, QVBoxLayout* v);
    void syncExpertEditors();
    QWidget* buildPolicyParams(const PolicyInfo& info);
    void rebuildPolicySpecs();

    const PresetLibrary& presets_;
    Scenario scenario_;
    bool syncing_ = false;
    std::map<std::string, PolicyParams> policyParams_;   // kept for unchecked policies too
    std::map<std::string, std::vector<QWidget*>> paramEditors_;

    QLabel* dbLabel_;
    QPushButton* openButton_;
    QComboBox* trace_;
    QLabel* traceInfo_;
    QComboBox* model_;
    QLabel* modelInfo_;
    QComboBox* hardware_;
    QVBoxLayout* tierLayout_;
    std::vector<TierWidgets> tierWidgets_;
    QComboBox* mode_;
    ValueSlider *sparsity_, *sinks_, *window_, *page_, *batch_, *omega_;
    QCheckBox* inclusive_;
    QComboBox* route_;
    QComboBox* observe_;
    QListWidget* policies_;
    QStackedWidget* policyParamsStack_;
    QLabel* policyHelp_;
    std::vector<TraceSummary> traces_;
    ValueSlider *layers_ = nullptr, *kappa_ = nullptr, *weights_ = nullptr;
    QLabel* modelNote_ = nullptr;
    QGroupBox* expertsBox_ = nullptr;
    QComboBox* expertPolicy_ = nullptr;
    ValueSlider* expertShare_ = nullptr;
    QLabel* expertHint_ = nullptr;
    QPushButton* reset_ = nullptr;
    QUndoStack* history_;
    Scenario committed_;                       // the scenario of the newest history step
    bool haveCommitted_ = false;
    std::string hardwareBase_, modelBase_;     // the presets "Reset to preset" returns to
    std::map<SelectionMode, double> modeValues_;   // each sparsity mode's last budget
    QString shownPolicy_;
};

} // namespace kvtier::ui
