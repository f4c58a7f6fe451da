#pragma once
// The explorer window: scenario dock on the left, the views in a grid with the policy
// comparison most prominent, the Explain dock on the right, a status bar with the trace
// size and the last computation time. All computation goes through AnalysisController;
// the trace library (TraceLibrary), recent files (RecentFiles), playback (Playback) and
// export (ExportActions) are their own classes: the window keeps layout, actions and wiring.
#include "core/config/presets.hpp"
#include "core/config/scenario_json.hpp"
#include "ui/trace_library.hpp"
#include "ui/analysis_worker.hpp"

#include <QMainWindow>
#include <QStringList>

#include <functional>
#include <optional>

class QAction;
class QComboBox;
class QLabel;
class QMenu;
class QProgressBar;
class QSplitter;
class QStackedWidget;
class QTabWidget;
class QTimer;
class QToolButton;

namespace kvtier::ui {

class BandwidthView;
class Baseline;
class InfeasibleBanner;
class LayerLink;
class SequenceLink;
class ComparisonView;
class ExplainPanel;
class ExpertView;
class ExportActions;
class JobRunner;
class Playback;
class RecentFiles;
class PlacementView;
class PlotView;
class RelevanceView;
class ScenarioPanel;
class StepLink;
class SweepView;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Opens a trace database and shows `trace` (or the last/first one). The database is
    // opened and listed on a worker thread (the status bar shows it is busy);
    // databaseOpened() reports the outcome. Errors are reported through ErrorSink and the
    // current trace is kept. A newer open or trace choice supersedes a pending one.
    void openDatabase(const QString& path, const QString& trace = QString());
    // Shows another trace of the open database (the list is read again, off the UI thread).
    void selectTrace(const QString& name);
    // What lists a database's traces, on the library's worker thread (tests slow it down
    // or watch its thread). The default opens the store read-only and lists it.
    using TraceLister = TraceLibrary::Lister;
    void setTraceLister(TraceLister lister);
    // Imports files (paper CSV, long CSV, .npy/.npz, kvtier .sqlite) into `targetDb`
    // (created when missing) in the background; importFinished() reports the outcome.
    void importFiles(const QStringList& files, const QString& targetDb);
    // What to do with dropped trace files. The default asks in a dialog; tests (and
    // embedders) may answer instead. `canOpen`: the drop is one kvtier database.
    using DropChoice = TraceLibrary::DropChoice;
    using DropChooser = TraceLibrary::DropChooser;
    void setDropChooser(DropChooser chooser);
    bool loadScenarioFile(const QString& path, const QStringList& overrides = {});
    bool saveScenarioFile(const QString& path);
    void setScenario(const Scenario& s);
    const Scenario& scenario() const;
    // Writes every view as PNG, PDF, SVG and CSV into `dir`; returns the files written.
    QStringList exportAll(const QString& dir, QSize size, QString* error = nullptr);

    ScenarioPanel* scenarioPanel() const { return panel_; }
    RelevanceView* relevanceView() const { return relevance_; }
    PlacementView* placementView() const { return placement_; }
    // The expert heatmap (docs/GUI.md "Experts"): shown only while the scenario's model has
    // experts (E > 0), next to the placement view (a tab of its own when tabbed).
    ExpertView* expertView() const { return experts_; }
    bool expertsShown() const { return expertsShown_; }
    BandwidthView* bandwidthView() const { return bandwidth_; }
    ComparisonView* comparisonView() const { return comparison_; }
    SweepView* sweepView() const { return sweep_; }
    ExplainPanel* explainPanel() const { return explain_; }
    // Every view shown (the expert view only for a model with experts).
    QList<PlotView*> views() const;
    // The views an analysis fills (the sweep has results of its own).
    QList<PlotView*> resultViews() const;
    // Brings the view with this id (comparison, placement, experts, bandwidth, relevance,
    // sweep) to the front of its tab group (the grid's or, on small screens, the one row of
    // tabs); the expert view comes to the front once a result with experts shows it.
    // False when no view has that id.
    bool bringViewToFront(const QString& id);
    AnalysisController* controller() const { return controller_; }
    JobRunner* libraryJobs() const;
    TraceLibrary* library() const { return library_; }
    // Anything in the background: an analysis, a database being opened, an import.
    bool busy() const;
    StepLink* stepLink() const { return link_; }
    LayerLink* layerLink() const { return layers_; }
    SequenceLink* sequenceLink() const { return sequences_; }
    Baseline* baseline() const { return baseline_; }
    AnalysisOutputPtr lastOutput() const { return last_; }
    QString databasePath() const;
    QComboBox* policyCombo() const { return policy_; }
    const PresetLibrary& presets() const { return presets_; }
    // The views in one row of tabs (small screens) or the grid of four (the default when
    // the screen has room); View → "Views in tabs" toggles it, the choice is saved.
    void setTabbedViews(bool tabs);
    bool tabbedViews() const;
    // First start of the interactive program: tabs when the screen is small (1366 x 768,
    // or 150 % scaling), unless a choice was saved. Not called by --export or tests.
    void fitLayoutToScreen();
    // "The KV cache fits in HBM: raise batch above N" when every policy keeps it all in
    // HBM (core fastTierFit), else empty; shown above the views.
    QString fitNote() const;
    // The line above the views while a streamed result is shown (why it streamed, what it
    // left out: ui/stream_notes.hpp); empty otherwise.
    QString streamNote() const;
    // Analysis → "Stream the trace (bounded memory)": every analysis streams (off: only a
    // trace too large for the whole-trace pipeline). Saved; changing it analyses again.
    void setStreaming(bool on);
    bool streaming() const;
    QAction* streamAction() const { return streamAction_; }
    // "trace long-context · Llama 3 8B · GH200 (HBM3 + LPDDR5X) · batch 128": what every
    // exported figure names under it.
    QString figureCaption() const;
    ExportActions* exportActions() const { return exports_; }
    // Opens a shipped document at a reference: "MODEL.md §4" or a "doc:MODEL.md#4" link
    // (the Explain panel's section references end here).
    void openDocReference(const QString& reference);

public slots:
    void recompute();
    void recomputeFresh();   // Recompute (F5): every stage again, no cached results
    void cancelComputation();
    void togglePlay();
    void stepForward();
    void stepBack();

signals:
    // After the views showed a new result (tests and the latency benchmark wait on it).
    void analysisShown(const kvtier::ui::AnalysisOutputPtr& out);
    void analysisFailed(const QString& message);
    // A first answer for the shown policy alone (the comparison waits for the full one).
    void partialShown(const kvtier::ui::AnalysisOutputPtr& out);
    void importFinished(bool ok, const QStringList& traces);
    // After openDatabase()/selectTrace(): the trace is chosen (ok) or the error reported.
    void databaseOpened(const QString& path, bool ok);

protected:
    void closeEvent(QCloseEvent* e) override;
    void resizeEvent(QResizeEvent* e) override;
    void moveEvent(QMoveEvent* e) override;
    void dragEnterEvent(QDragEnterEvent* e) override;
    void dropEvent(QDropEvent* e) override;
    void changeEvent(QEvent* e) override;
    void showEvent(QShowEvent* e) override;

private:
    void openDatabaseThen(const QString& path, const QString& trace, std::function<void()> onFailure,
                          std::function<void()> onMissing = {});
    void showTraces(const QString& db, const std::vector<TraceSummary>& traces, const QString& trace);
    void updateBusy();
    void buildActions();
    void buildLayout();
    void restoreSettings();
    void saveSettings();
    void scheduleRequest(int delayMs);
    ViewParams viewParams() const;
    void onResult(const AnalysisOutputPtr& out);
    void onFailure(const QString& message, bool infeasible);
    void updatePolicyCombo();
    void showExperts(bool shown);
    int scheduleEntries() const;   // the schedules the policy chooser offers
    void requestTokenDetail(quint32 token);
    void applyThemeFromPalette();
    void updateStatus();
    Scenario defaultScenario() const;

    PresetLibrary presets_;
    AnalysisController* controller_;
    StepLink* link_;
    ScenarioPanel* panel_;
    RelevanceView* relevance_;
    PlacementView* placement_;
    ExpertView* experts_;
    bool expertsShown_ = false;
    bool expertsToFront_ = false;   // asked for (--view experts) before a result showed it
    BandwidthView* bandwidth_;
    ComparisonView* comparison_;
    SweepView* sweep_;
    ExplainPanel* explain_;
    QSplitter *rows_, *top_, *bottom_;
    QTabWidget *topLeft_, *topRight_, *bottomLeft_, *bottomRight_;
    QTabWidget* tabs_;              // every view, when tabbed
    QStackedWidget* viewStack_;     // the grid (rows_) or the tabs
    QAction* tabbedAction_ = nullptr;
    QAction* streamAction_ = nullptr;
    QLabel* streamNote_ = nullptr;  // a streamed result: why and what it left out
    QLabel* note_;                  // why a result is trivial (fits in HBM)
    QComboBox* policy_;
    InfeasibleBanner* banner_;
    QLabel *traceStatus_, *timeStatus_, *stepStatus_;
    QProgressBar* progress_;
    QToolButton* cancelButton_;
    QTimer* requestTimer_;
    QTimer* saveTimer_ = nullptr;   // writes settings shortly after a change
    TraceLibrary* library_;
    Playback* playback_;
    ExportActions* exports_;
    RecentFiles* recent_ = nullptr;
    RecentFiles* recentScenarios_ = nullptr;   // scenario files loaded or saved
    JobRunner* tokenJobs_;          // a clicked token's story
    QAction *playAction_, *cancelAction_;
    AnalysisOutputPtr last_;
    std::optional<Scenario> pendingScenario_;   // a loaded scenario, applied once its trace opens
    AnalysisOutputPtr lastFull_;   // the last complete result (what an infeasible change keeps)
    LayerLink* layers_ = nullptr;   // the layer the heatmaps and Explain show
    SequenceLink* sequences_ = nullptr;   // the sequence of a batch the heatmaps show
    Baseline* baseline_ = nullptr;  // a pinned result to compare with
    bool haveScenario_ = false;
    bool splittersRestored_ = false;
    bool firstShow_ = true;
};

} // namespace kvtier::ui
