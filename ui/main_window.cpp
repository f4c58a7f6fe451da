#include "ui/main_window.hpp"

#include "core/engine/stream_rule.hpp"
#include "core/config/data_dir.hpp"
#include "core/model/error.hpp"
#include "core/support/json_text.hpp"
#include "core/engine/view_timeline.hpp"
#include "ui/bandwidth_view.hpp"
#include "ui/baseline.hpp"
#include "ui/infeasible_banner.hpp"
#include "ui/layer_link.hpp"
#include "ui/sequence_link.hpp"
#include "ui/comparison_view.hpp"
#include "ui/error_sink.hpp"
#include "ui/explain_panel.hpp"
#include "ui/expert_view.hpp"
#include "ui/job_runner.hpp"
#include "ui/export_actions.hpp"
#include "ui/help_menu.hpp"
#include "ui/stream_notes.hpp"
#include "ui/window_fit.hpp"
#include "core/engine/view_capacity.hpp"
#include "ui/placement_view.hpp"
#include "ui/playback.hpp"
#include "ui/recent_files.hpp"
#include "ui/relevance_view.hpp"
#include "ui/scenario_panel.hpp"
#include "ui/sweep_view.hpp"
#include "ui/theme.hpp"
#include "ui/units.hpp"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QElapsedTimer>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QScreen>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QShowEvent>
#include <QSplitter>
#include <QStackedWidget>
#include <QTextBrowser>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include "core/engine/relevance.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

// Resources of a static library must be registered explicitly (outside any namespace).
static void initKvtierResources() { Q_INIT_RESOURCE(kvtier); }

namespace kvtier::ui {

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

QIcon icon(const char* name) { return QIcon(QStringLiteral(":/icons/%1.svg").arg(QLatin1String(name))); }

} // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), presets_(PresetLibrary::loadBuiltin()), controller_(new AnalysisController(this)),
      link_(new StepLink(this)),
      library_(new TraceLibrary(this)), playback_(new Playback(link_, this)),
      exports_(new ExportActions([this] { return views(); }, this)),
      tokenJobs_(new JobRunner(QStringLiteral("kvtier-token"), JobRunner::Mode::LatestWins, this))
{
    initKvtierResources();
    setWindowTitle(tr("kvtier — KV-cache placement explorer"));
    setWindowIcon(icon("kvtier"));
    setAcceptDrops(true);
    setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks);
    Theme::setCurrent(Theme::fromPalette());

    layers_ = new LayerLink(this);
    sequences_ = new SequenceLink(this);
    baseline_ = new Baseline([this] { return lastFull_; }, this);
    requestTimer_ = new QTimer(this);
    requestTimer_->setSingleShot(true);
    connect(requestTimer_, &QTimer::timeout, this, &MainWindow::recompute);
    buildLayout();
    for (PlotView* v : resultViews())
        v->setPlaceholder(tr("No result yet"));
    buildActions();

    // Settings and layout are written shortly after they change, not only on a clean
    // exit, so a crash or a kill loses at most the last second.
    saveTimer_ = new QTimer(this);
    saveTimer_->setSingleShot(true);
    saveTimer_->setInterval(800);
    connect(saveTimer_, &QTimer::timeout, this, &MainWindow::saveSettings);
    for (QSplitter* sp : {rows_, top_, bottom_})
        connect(sp, &QSplitter::splitterMoved, saveTimer_, qOverload<>(&QTimer::start));
    connect(policy_, &QComboBox::currentIndexChanged, saveTimer_, qOverload<>(&QTimer::start));

    connect(controller_, &AnalysisController::resultReady, this, &MainWindow::onResult);
    connect(controller_, &AnalysisController::partialReady, this, &MainWindow::onResult);
    connect(controller_, &AnalysisController::failed, this, &MainWindow::onFailure);
    connect(controller_, &AnalysisController::busyChanged, this, [this](bool busy) {
        cancelButton_->setVisible(busy);
        cancelAction_->setEnabled(busy);
        if (busy)
            progress_->setRange(0, 0);
        updateBusy();
    });
    connect(library_, &TraceLibrary::busyChanged, this, &MainWindow::updateBusy);
    connect(library_, &TraceLibrary::traceChosen, this, &MainWindow::showTraces);
    connect(library_, &TraceLibrary::databaseOpened, this, &MainWindow::databaseOpened);
    connect(library_, &TraceLibrary::importFinished, this, &MainWindow::importFinished);
    connect(recent_, &RecentFiles::openRequested, this, [this](const QString& p) { openDatabase(p); });
    connect(playback_, &Playback::playingChanged, this, [this](bool playing) {
        playAction_->setChecked(playing);
        playAction_->setIcon(icon(playing ? "pause" : "play"));
    });
    connect(exports_, &ExportActions::lastDirChanged, saveTimer_, qOverload<>(&QTimer::start));
    connect(exports_, &ExportActions::done, statusBar(), &QStatusBar::showMessage);
    connect(controller_, &AnalysisController::progress, this, [this](double f) {
        progress_->setRange(0, 1000);
        progress_->setValue(static_cast<int>(f * 1000));
    });
    connect(panel_, &ScenarioPanel::scenarioChanged, this, [this] {
        saveTimer_->start();
        if (scenario().inclusive && (scenario().bounds.migration_aware.enabled || scenario().bounds.annealed.enabled)) {
            setScenario(scenario());   // turns the certified bound off (exclusive placement only)
            return;
        }
        if (policy_->count() != static_cast<int>(scenario().policies.size()) + scheduleEntries())
            updatePolicyCombo();   // the policy list changed
        // During a drag the running analysis is let finish, so results keep coming.
        if (panel_->dragging() && !scenario().trace_name.empty()) {
            requestTimer_->stop();
            controller_->submitLive(scenario(), viewParams());
            return;
        }
        scheduleRequest(0);
    });
    // The value a drag ends on is computed in full (the drag showed the shown policy).
    connect(panel_, &ScenarioPanel::dragEnded, this, [this] { scheduleRequest(0); });
    // After the current event: a notice raised while a database is listed must outlive the
    // busy indicator's clearMessage() that follows it.
    connect(panel_, &ScenarioPanel::notice, this, [this](const QString& m) {
        QTimer::singleShot(0, this, [this, m] { statusBar()->showMessage(m, 10000); });
    });
    connect(panel_, &ScenarioPanel::policyFocused, this, [this](const QString& name) {
        const int i = policy_->findData(name);
        if (i >= 0)
            policy_->setCurrentIndex(i);
    });
    connect(recentScenarios_, &RecentFiles::openRequested, this, [this](const QString& p) { loadScenarioFile(p); });
    connect(panel_, &ScenarioPanel::traceSelected, this, [this](const QString& name) { selectTrace(name); });
    connect(panel_, &ScenarioPanel::openDatabaseRequested, this, [this] {
        const QString p = QFileDialog::getOpenFileName(this, tr("Open trace database"), QFileInfo(databasePath()).absolutePath(),
                                                       tr("kvtier trace databases (*.sqlite *.db);;All files (*)"));
        if (!p.isEmpty())
            openDatabase(p);
    });
    connect(link_, &StepLink::cursorChanged, this, [this](qint64 t) {
        explain_->setStep(t);
        stepStatus_->setText(tr("step %1").arg(t));
    });
    connect(relevance_, &RelevanceView::windowChanged, this, [this] { scheduleRequest(120); });
    connect(placement_, &PlacementView::windowChanged, this, [this] { scheduleRequest(120); });
    connect(experts_, &ExpertView::windowChanged, this, [this] {
        if (expertsShown_)
            scheduleRequest(120);
    });
    connect(experts_, &PlotView::exportRequested, exports_, &ExportActions::exportViewInteractive);
    connect(relevance_, &RelevanceView::tokenClicked, this, &MainWindow::requestTokenDetail);
    connect(comparison_, &ComparisonView::boundsRequested, this, [this](bool bound, bool annealed) {
        Scenario s = scenario();
        s.bounds.migration_aware.enabled = bound && !s.inclusive;
        s.bounds.annealed.enabled = annealed && bound && !s.inclusive;
        if (s.bounds == scenario().bounds)
            return;
        saveTimer_->start();
        setScenario(s);
    });
    connect(controller_, &AnalysisController::boundsCancelled, comparison_, &ComparisonView::boundsCancelled);
    connect(layers_, &LayerLink::layerChanged, this, [this] { scheduleRequest(0); });
    connect(sequences_, &SequenceLink::sequenceChanged, this, [this] { scheduleRequest(0); });
    connect(baseline_, &Baseline::changed, this, [this](const AnalysisOutputPtr& b) {
        bandwidth_->setBaseline(b);
        explain_->setBaseline(b);
        statusBar()->showMessage(baseline_->summary(), 6000);
    });
    connect(comparison_, &ComparisonView::policyActivated, this, [this](const QString& name) {
        const int i = policy_->findData(name);
        if (i >= 0)
            policy_->setCurrentIndex(i);
    });
    for (PlotView* v : views())
        connect(v, &PlotView::exportRequested, exports_, &ExportActions::exportViewInteractive);
    exports_->setOutput([this] { return last_; });
    exports_->setCaption([this] { return figureCaption(); });
    // The Explain panel's section references ("doc:MODEL.md#4") open the shipped document.
    if (auto* browser = explain_->findChild<QTextBrowser*>()) {
        browser->setOpenLinks(false);
        connect(browser, &QTextBrowser::anchorClicked, this, [this](const QUrl& url) { openDocReference(url.toString()); });
    }

    restoreSettings();
    if (!haveScenario_)
        setScenario(defaultScenario());
    // The Scenario panel scrolls vertically only: its dock is as wide as its content, so
    // nothing is clipped at the right edge.
    if (auto* area = panel_->findChild<QScrollArea*>(); area && area->widget()) {
        const int need = area->widget()->minimumSizeHint().width() + area->verticalScrollBar()->sizeHint().width() + 4;
        panel_->setMinimumWidth(std::max(panel_->minimumWidth(), need));
    }
    // Settle the minimum size before the native window exists: platforms without size
    // hints (offscreen, used by tests and --export) warn when it changes after show().
    ensurePolished();
    layout()->activate();
    // ...and keep it: made explicit, the layout no longer moves it when a dock's content
    // changes later (a trace opened in the background fills the Scenario panel after show).
    // (Setting an unchanged size is ignored and would not make it explicit, hence the reset.)
    const QSize settled = minimumSize();
    setMinimumSize(0, 0);
    setMinimumSize(settled);
}

MainWindow::~MainWindow()
{
    // The jobs read nothing of the window, but their results must not arrive half-way
    // through its destruction.
    tokenJobs_->stop();
}

bool MainWindow::busy() const
{
    return controller_->busy() || library_->busy();
}

void MainWindow::updateBusy()
{
    // One busy indicator for everything in the background; only the analysis has Cancel.
    const bool library = library_->busy();
    if (library && !controller_->busy())
        progress_->setRange(0, 0);
    progress_->setVisible(library || controller_->busy());
    const QString reading = tr("Reading the trace database…"), importing = tr("Importing traces…");
    if (library_->jobs()->busy())
        statusBar()->showMessage(reading);
    else if (library)
        statusBar()->showMessage(importing);
    else if (const QString m = statusBar()->currentMessage(); m == reading || m == importing)
        statusBar()->clearMessage();   // only its own message: a notice (a refused value, a model switch) stays
}

void MainWindow::setTraceLister(TraceLister lister) { library_->setLister(std::move(lister)); }
void MainWindow::setDropChooser(DropChooser chooser) { library_->setDropChooser(std::move(chooser)); }
JobRunner* MainWindow::libraryJobs() const { return library_->jobs(); }
QString MainWindow::databasePath() const { return library_->databasePath(); }

QList<PlotView*> MainWindow::views() const
{
    if (expertsShown_)
        return {comparison_, placement_, experts_, bandwidth_, relevance_, sweep_};
    return {comparison_, placement_, bandwidth_, relevance_, sweep_};
}

QList<PlotView*> MainWindow::resultViews() const
{
    return {comparison_, placement_, bandwidth_, relevance_};
}

bool MainWindow::bringViewToFront(const QString& id)
{
    if (id == experts_->viewId() && !expertsShown_) {
        expertsToFront_ = true;   // when a result with experts shows the view
        return true;
    }
    for (PlotView* v : views())
        if (v->viewId() == id) {
            for (QTabWidget* group : {tabs_, topLeft_, topRight_, bottomLeft_, bottomRight_})
                if (const int i = group->indexOf(v); i >= 0)
                    group->setCurrentIndex(i);
            return true;
        }
    return false;
}

void MainWindow::buildLayout()
{
    panel_ = new ScenarioPanel(presets_, this);
    auto* scenarioDock = new QDockWidget(tr("Scenario"), this);
    scenarioDock->setObjectName(QStringLiteral("scenarioDock"));
    scenarioDock->setWidget(panel_);
    scenarioDock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable);
    addDockWidget(Qt::LeftDockWidgetArea, scenarioDock);

    explain_ = new ExplainPanel(this);
    auto* explainDock = new QDockWidget(tr("Explain"), this);
    explainDock->setObjectName(QStringLiteral("explainDock"));
    explainDock->setWidget(explain_);
    addDockWidget(Qt::LeftDockWidgetArea, explainDock);
    splitDockWidget(scenarioDock, explainDock, Qt::Vertical);
    resizeDocks({scenarioDock, explainDock}, {560, 340}, Qt::Vertical);
    resizeDocks({scenarioDock}, {340}, Qt::Horizontal);

    comparison_ = new ComparisonView(this);
    placement_ = new PlacementView(link_, this);
    experts_ = new ExpertView(link_, this);
    bandwidth_ = new BandwidthView(link_, this);
    relevance_ = new RelevanceView(link_, this);
    sweep_ = new SweepView(controller_->pipeline(), this);

    auto* central = new QWidget(this);
    auto* v = new QVBoxLayout(central);
    v->setContentsMargins(0, 0, 0, 0);
    v->setSpacing(0);

    rows_ = new QSplitter(Qt::Vertical, central);
    top_ = new QSplitter(Qt::Horizontal, rows_);
    bottom_ = new QSplitter(Qt::Horizontal, rows_);
    topLeft_ = new QTabWidget(top_);
    topLeft_->setDocumentMode(true);
    topLeft_->addTab(comparison_, tr("Comparison"));
    topLeft_->addTab(sweep_, tr("Sweep"));
    topRight_ = new QTabWidget(top_);
    topRight_->setDocumentMode(true);
    topRight_->addTab(placement_, tr("Placement"));
    topRight_->addTab(experts_, tr("Experts"));
    topRight_->setTabVisible(topRight_->indexOf(experts_), false);
    // The expert heatmap is pooled to its plot's size: shown, it asks again.
    connect(topRight_, &QTabWidget::currentChanged, this, [this] {
        if (!tabbedViews() && topRight_->currentWidget() == experts_)
            scheduleRequest(60);
    });
    bottomLeft_ = new QTabWidget(bottom_);
    bottomLeft_->setDocumentMode(true);
    bottomLeft_->addTab(bandwidth_, tr("Bandwidth"));
    bottomRight_ = new QTabWidget(bottom_);
    bottomRight_->setDocumentMode(true);
    bottomRight_->addTab(relevance_, tr("Relevance"));
    top_->setStretchFactor(0, 3);
    top_->setStretchFactor(1, 2);
    rows_->setStretchFactor(0, 11);
    rows_->setStretchFactor(1, 9);
    bottom_->setStretchFactor(0, 1);
    bottom_->setStretchFactor(1, 1);
    for (QSplitter* s : {rows_, top_, bottom_})
        s->setChildrenCollapsible(false);
    top_->setSizes({660, 560});
    bottom_->setSizes({610, 610});
    rows_->setSizes({520, 480});
    // A trivial result says why (the KV cache fits in HBM); informative, not an error. It
    // sits in the scrolled area above the views, so showing it never changes the window's
    // minimum size.
    auto* scrolled = new QWidget(central);
    auto* sv = new QVBoxLayout(scrolled);
    sv->setContentsMargins(0, 0, 0, 0);
    sv->setSpacing(0);
    note_ = new QLabel(scrolled);
    note_->setObjectName(QStringLiteral("fitNote"));
    note_->setWordWrap(true);
    note_->setStyleSheet(QStringLiteral("QLabel { background: #DCEBF7; color: #0B3C61; padding: 5px; border-bottom: 1px solid #0072B2; }"));
    note_->hide();
    sv->addWidget(note_);
    streamNote_ = new QLabel(scrolled);
    streamNote_->setObjectName(QStringLiteral("streamNote"));
    streamNote_->setWordWrap(true);
    streamNote_->setStyleSheet(QStringLiteral("QLabel { background: #FFF4D6; color: #5A3E00; padding: 5px; border-bottom: 1px solid #E69F00; }"));
    streamNote_->hide();
    sv->addWidget(streamNote_);
    // The grid of views, or all of them as tabs (small screens): one stack, the same views.
    tabs_ = new QTabWidget(scrolled);
    tabs_->setObjectName(QStringLiteral("viewTabs"));
    tabs_->setDocumentMode(true);
    // A heatmap is pooled to its plot's size; a tab shown for the first time at another size
    // asks for its cells again (the stages are cached: only the pooling reruns).
    connect(tabs_, &QTabWidget::currentChanged, this, [this] {
        if (tabbedViews())
            scheduleRequest(60);
    });
    viewStack_ = new QStackedWidget(scrolled);
    viewStack_->addWidget(rows_);
    viewStack_->addWidget(tabs_);
    sv->addWidget(viewStack_, 1);
    // Below the views' own minimum (a small screen, 150 % scaling) the views scroll rather
    // than push the window off the screen or clip.
    auto* scroll = new QScrollArea(central);
    scroll->setObjectName(QStringLiteral("viewScroll"));
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidgetResizable(true);
    scroll->setWidget(scrolled);
    v->addWidget(scroll, 1);
    setCentralWidget(central);
    banner_ = new InfeasibleBanner(central);   // floats over the views: the layout never moves
    relevance_->setLayerLink(layers_);
    placement_->setLayerLink(layers_);
    relevance_->setSequenceLink(sequences_);
    placement_->setSequenceLink(sequences_);
    explain_->setLayerLink(layers_);

    traceStatus_ = new QLabel(this);
    traceStatus_->setObjectName(QStringLiteral("traceStatus"));
    timeStatus_ = new QLabel(this);
    stepStatus_ = new QLabel(this);
    progress_ = new QProgressBar(this);
    progress_->setMaximumWidth(160);
    progress_->setTextVisible(false);
    progress_->hide();
    cancelButton_ = new QToolButton(this);
    cancelButton_->setText(tr("Cancel"));
    cancelButton_->setAutoRaise(true);
    cancelButton_->hide();
    connect(cancelButton_, &QToolButton::clicked, this, &MainWindow::cancelComputation);
    statusBar()->addWidget(traceStatus_, 1);
    statusBar()->addPermanentWidget(stepStatus_);
    statusBar()->addPermanentWidget(timeStatus_);
    statusBar()->addPermanentWidget(progress_);
    statusBar()->addPermanentWidget(cancelButton_);
}

void MainWindow::buildActions()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(icon("open"), tr("&Open database…"), this, [this] {
        const QString p = QFileDialog::getOpenFileName(this, tr("Open trace database"), QFileInfo(databasePath()).absolutePath(),
                                                       tr("kvtier trace databases (*.sqlite *.db);;All files (*)"));
        if (!p.isEmpty())
            openDatabase(p);
    });
    open->setShortcut(QKeySequence::Open);
    recent_ = new RecentFiles(file->addMenu(tr("Open &recent")), this);
    recentScenarios_ = new RecentFiles(file->addMenu(tr("Recent &scenarios")), this, QStringLiteral("recentScenarios"));
    QAction* importAct = file->addAction(tr("&Import traces…"), this, [this] {
        const QStringList files = QFileDialog::getOpenFileNames(this, tr("Import traces"), QString(),
                                                                tr("Traces (*.csv *.npy *.npz *.sqlite *.db);;All files (*)"));
        if (files.isEmpty())
            return;
        QString target = databasePath();
        if (target.isEmpty())
            target = QFileDialog::getSaveFileName(this, tr("New trace database"), QString(), tr("SQLite (*.sqlite)"));
        if (!target.isEmpty())
            importFiles(files, target);
    });
    importAct->setShortcut(QKeySequence(tr("Ctrl+I")));
    file->addAction(tr("Import into &new database…"), this, [this] {
        const QStringList files = QFileDialog::getOpenFileNames(this, tr("Import traces"), QString(),
                                                                tr("Traces (*.csv *.npy *.npz *.sqlite *.db);;All files (*)"));
        if (files.isEmpty())
            return;
        const QString target = QFileDialog::getSaveFileName(this, tr("New trace database"), QString(), tr("SQLite (*.sqlite)"));
        if (!target.isEmpty())
            importFiles(files, target);
    });
    file->addSeparator();
    QAction* loadSc = file->addAction(tr("&Load scenario…"), this, [this] {
        const QString p = QFileDialog::getOpenFileName(this, tr("Load scenario"), QString(), tr("kvtier scenarios (*.kvtier.json *.json)"));
        if (!p.isEmpty())
            loadScenarioFile(p);
    });
    loadSc->setShortcut(QKeySequence(tr("Ctrl+L")));
    QAction* saveSc = file->addAction(icon("save"), tr("&Save scenario…"), this, [this] {
        QString p = QFileDialog::getSaveFileName(this, tr("Save scenario"), QStringLiteral("scenario.kvtier.json"),
                                                 tr("kvtier scenarios (*.kvtier.json)"));
        if (p.isEmpty())
            return;
        if (!p.endsWith(QLatin1String(".json")))
            p += QStringLiteral(".kvtier.json");
        saveScenarioFile(p);
    });
    saveSc->setShortcut(QKeySequence::Save);
    file->addSeparator();
    QAction* exportAct = file->addAction(icon("export"), tr("&Export all views…"), exports_, &ExportActions::exportAllInteractive);
    exportAct->setShortcut(QKeySequence(tr("Ctrl+E")));
    QAction* exportOne = file->addAction(tr("Export &current comparison view…"), this, [this] { exports_->exportViewInteractive(comparison_); });
    exportOne->setShortcut(QKeySequence(tr("Ctrl+Shift+E")));
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    // Scenario history (ui/scenario_panel_history.cpp): every change, a drag as one step.
    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    QAction* undo = panel_->history()->createUndoAction(this, tr("&Undo"));
    undo->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_Z)});
    undo->setObjectName(QStringLiteral("undoAction"));
    QAction* redo = panel_->history()->createRedoAction(this, tr("&Redo"));
    redo->setShortcuts({QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z), QKeySequence(Qt::CTRL | Qt::Key_Y)});
    redo->setObjectName(QStringLiteral("redoAction"));
    edit->addAction(undo);
    edit->addAction(redo);
    edit->addSeparator();
    edit->addAction(tr("Reset to &preset"), panel_, &ScenarioPanel::resetToPreset);
    addAction(undo);
    addAction(redo);

    QMenu* analysis = menuBar()->addMenu(tr("&Analysis"));
    QAction* recomputeAct = analysis->addAction(icon("run"), tr("&Recompute"), this, &MainWindow::recomputeFresh);
    recomputeAct->setShortcut(QKeySequence(Qt::Key_F5));
    cancelAction_ = analysis->addAction(icon("cancel"), tr("&Cancel"), this, &MainWindow::cancelComputation);
    cancelAction_->setShortcut(QKeySequence(Qt::Key_Escape));
    cancelAction_->setEnabled(false);
    analysis->addSeparator();
    analysis->addAction(baseline_->pinAction());
    analysis->addAction(baseline_->clearAction());
    analysis->addSeparator();
    playAction_ = analysis->addAction(icon("play"), tr("&Play decode steps"), playback_, &Playback::toggle);
    playAction_->setShortcut(QKeySequence(Qt::Key_Space));
    playAction_->setCheckable(true);
    QAction* next = analysis->addAction(icon("next"), tr("&Next step"), playback_, &Playback::stepForward);
    next->setShortcut(QKeySequence(Qt::Key_Period));
    QAction* prev = analysis->addAction(icon("prev"), tr("&Previous step"), playback_, &Playback::stepBack);
    prev->setShortcut(QKeySequence(Qt::Key_Comma));
    QAction* resetZoom = analysis->addAction(tr("Show &all steps"), this, [this] {
        link_->setRange(-0.5, static_cast<double>(link_->steps()) - 0.5);
    });
    resetZoom->setShortcut(QKeySequence(tr("Ctrl+0")));
    analysis->addSeparator();
    streamAction_ = analysis->addAction(tr("&Stream the trace (bounded memory)"), this, [this](bool on) {
        setStreaming(on);
        QSettings().setValue(QStringLiteral("analysis/stream"), on);
        saveTimer_->start();
    });
    streamAction_->setObjectName(QStringLiteral("streamAction"));
    streamAction_->setCheckable(true);
    streamAction_->setToolTip(tr("Read the trace a window of steps at a time, in bounded memory (docs/GUI.md "
                                 "\"Streamed analysis\"): the same times and totals for every online policy and both "
                                 "bounds, and the same heatmaps. Oracle policies, relevance statistics, token "
                                 "timelines, per-layer step breakdowns and the certified bound are left out. "
                                 "A trace too large for the whole-trace analysis streams even when this is off."));
    streamAction_->setStatusTip(streamAction_->toolTip());

    QMenu* view = menuBar()->addMenu(tr("&View"));
    for (QDockWidget* d : findChildren<QDockWidget*>())
        view->addAction(d->toggleViewAction());
    view->addSeparator();
    tabbedAction_ = view->addAction(tr("Views in &tabs"), this, [this](bool on) {
        setTabbedViews(on);
        // Only this action records a choice: a layout the window picked for its screen is not
        // one, so the same settings open in tabs on a laptop and as a grid on a large monitor.
        QSettings().setValue(QStringLiteral("window/tabbedViews"), on);
        saveTimer_->start();
    });
    tabbedAction_->setObjectName(QStringLiteral("tabbedViewsAction"));
    tabbedAction_->setCheckable(true);
    tabbedAction_->setShortcut(QKeySequence(tr("Ctrl+T")));
    tabbedAction_->setToolTip(tr("Show one view at a time in tabs (more room per plot), or the grid of four"));
    addHelpMenu(menuBar(), this, [this](const QString& m) { statusBar()->showMessage(m, 6000); });

    QToolBar* tb = addToolBar(tr("Main"));
    tb->setObjectName(QStringLiteral("mainToolBar"));
    tb->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    tb->setIconSize(QSize(18, 18));
    tb->addAction(open);
    tb->addAction(saveSc);
    tb->addAction(exportAct);
    tb->addSeparator();
    tb->addWidget(new QLabel(tr(" Policy shown: "), tb));
    policy_ = new QComboBox(tb);
    policy_->setObjectName(QStringLiteral("policyCombo"));
    policy_->setMinimumContentsLength(18);
    policy_->setToolTip(tr("The policy the placement, bandwidth and explain views show"));
    tb->addWidget(policy_);
    connect(policy_, &QComboBox::currentIndexChanged, this, [this] {
        comparison_->setShownPolicy(policy_->currentData().toString());
        panel_->showPolicy(policy_->currentData().toString());
        if (policy_->signalsBlocked())
            return;
        scheduleRequest(0);
    });
    tb->addSeparator();
    tb->addAction(prev);
    tb->addAction(playAction_);
    tb->addAction(next);
    tb->addSeparator();
    tb->addAction(recomputeAct);
    tb->addAction(cancelAction_);
    tb->addSeparator();
    tb->addAction(baseline_->pinAction());
}

Scenario MainWindow::defaultScenario() const
{
    // The project's default scenario when it exists, else a built-in one.
    const QString file = QString::fromStdString(defaultScenarioPath());
    if (QFileInfo::exists(file)) {
        try {
            Scenario s = loadScenario(file.toStdString(), presets_);
            s.trace_db = QFileInfo(QString::fromStdString(resolveTraceDb(s.trace_db, file.toStdString()))).absoluteFilePath().toStdString();
            return s;
        } catch (const std::exception&) {
        }
    }
    Scenario s;
    s.model_preset = presets_.models().empty() ? std::string() : presets_.models().front().id;
    if (!presets_.models().empty())
        s.model = presets_.models().front().model;
    for (const HardwarePreset& h : presets_.hardware())
        if (s.hardware.tiers.empty() || h.id == "gh200-hbm3") {
            s.hardware = h.hardware;
            s.hardware_preset = h.id;
        }
    for (const PolicyEntry& e : policyRegistry())
        s.policies.push_back({e.info.name, resolveParams(e.info, {}, "default")});
    return s;
}

const Scenario& MainWindow::scenario() const { return panel_->scenario(); }

void MainWindow::setScenario(const Scenario& given)
{
    haveScenario_ = true;
    // The certified bound covers exclusive placement only (a scenario asking for both is
    // refused on load): inclusive placement turns it off; the comparison says why.
    Scenario s = given;
    if (s.inclusive)
        s.bounds.migration_aware.enabled = s.bounds.annealed.enabled = false;
    panel_->setScenario(s);
    updatePolicyCombo();
    scheduleRequest(0);
}

void MainWindow::updatePolicyCombo()
{
    const QString keep = policy_->currentData().toString();
    const QSignalBlocker block(policy_);
    policy_->clear();
    for (const PolicySpec& p : scenario().policies) {
        const PolicyInfo& info = findPolicy(p.name).info;
        policy_->addItem(qs(info.label) + (info.online ? QString() : tr("  ◆ oracle")), qs(p.name));
    }
    // The heavy bounds' schedules, shown like a policy once computed (names as in
    // scheduleOutcomes(), core/engine/view_explain.hpp).
    const BoundsConfig& b = scenario().bounds;
    if (b.migration_aware.enabled && !scenario().inclusive)
        policy_->addItem(tr("best schedule S  ◆ oracle"), QStringLiteral("schedule"));
    if (b.annealed.enabled && !scenario().inclusive)
        policy_->addItem(tr("annealed schedule  ◆ oracle"), QStringLiteral("annealed"));
    int i = policy_->findData(keep);
    if (i < 0)
        i = policy_->findData(QSettings().value(QStringLiteral("policy")).toString());
    policy_->setCurrentIndex(std::max(0, i));
    comparison_->setShownPolicy(policy_->currentData().toString());
}

int MainWindow::scheduleEntries() const
{
    const BoundsConfig& b = scenario().bounds;
    return scenario().inclusive ? 0 : int(b.migration_aware.enabled) + int(b.annealed.enabled);
}

void MainWindow::openDatabase(const QString& path, const QString& trace)
{
    pendingScenario_.reset();
    openDatabaseThen(path, trace, {});
}

void MainWindow::openDatabaseThen(const QString& path, const QString& trace, std::function<void()> onFailure,
                                  std::function<void()> onMissing)
{
    // The scenario's trace is the one to keep when it lives in that database.
    QString current;
    if (!scenario().trace_name.empty() && QFileInfo(qs(scenario().trace_db)) == QFileInfo(path))
        current = qs(scenario().trace_name);
    library_->open(path, trace, current, std::move(onFailure), std::move(onMissing));
}

void MainWindow::selectTrace(const QString& name)
{
    pendingScenario_.reset();
    library_->select(name);
}

// The library chose a trace: list it in the panel and analyse it.
void MainWindow::showTraces(const QString& db, const std::vector<TraceSummary>& traces, const QString& trace)
{
    recent_->add(db);
    if (pendingScenario_) {
        panel_->setScenario(*pendingScenario_);
        pendingScenario_.reset();
    }
    panel_->setTraces(db, traces, trace);
    Scenario s = scenario();
    s.trace_db = db.toStdString();
    s.trace_name = trace.toStdString();
    setScenario(s);
    setWindowTitle(tr("kvtier — %1 — %2").arg(QFileInfo(db).fileName(), trace));
}

void MainWindow::importFiles(const QStringList& files, const QString& targetDb)
{
    library_->importFiles(files, targetDb, scenario().model.layers);
}

bool MainWindow::loadScenarioFile(const QString& path, const QStringList& overrides)
{
    Scenario s;
    try {
        std::vector<std::string> o;
        for (const QString& x : overrides)
            o.push_back(x.toStdString());
        s = loadScenario(path.toStdString(), presets_, o);
        s.trace_db = resolveTraceDb(s.trace_db, path.toStdString());
    } catch (const std::exception& e) {
        ErrorSink::instance().report(this, tr("Cannot load scenario"), userMessage(e, path));
        return false;
    }
    const QString db = QFileInfo(qs(s.trace_db)).absoluteFilePath();
    s.trace_db = db.toStdString();
    recentScenarios_->add(QFileInfo(path).absoluteFilePath());
    // Applied when its trace is listed (showTraces). When the database cannot be opened
    // the scenario is still the one asked for: its analysis then reports what is wrong
    // with the trace. A trace the database does not hold is an error, as in the CLI,
    // never another trace silently: the current scenario stays.
    pendingScenario_ = s;
    openDatabaseThen(db, qs(s.trace_name),
                     [this, s] {
                         pendingScenario_.reset();
                         setScenario(s);
                     },
                     [this] { pendingScenario_.reset(); });
    return true;
}

bool MainWindow::saveScenarioFile(const QString& path)
{
    try {
        // The database is written relative to the scenario's folder, so the two can move
        // together (loading resolves it against that folder first).
        Scenario s = scenario();
        if (!s.trace_db.empty() && QFileInfo(qs(s.trace_db)).isAbsolute())
            s.trace_db = QDir::fromNativeSeparators(QFileInfo(path).absoluteDir().relativeFilePath(qs(s.trace_db))).toStdString();
        saveScenario(s, path.toStdString());
        recentScenarios_->add(QFileInfo(path).absoluteFilePath());
    } catch (const std::exception& e) {
        ErrorSink::instance().report(this, tr("Cannot save scenario"), userMessage(e, path));
        return false;
    }
    statusBar()->showMessage(tr("Scenario saved to %1").arg(path), 4000);
    return true;
}

void MainWindow::scheduleRequest(int delayMs)
{
    if (delayMs <= 0) {
        requestTimer_->stop();
        recompute();
        return;
    }
    requestTimer_->start(delayMs);
}

ViewParams MainWindow::viewParams() const
{
    ViewParams v;
    v.relevance = relevance_->wantedWindow();
    v.placement = placement_->wantedWindow();
    v.experts = experts_->wantedWindow();
    v.policy = policy_->currentData().toString().toStdString();
    return v;
}

void MainWindow::recompute()
{
    const Scenario& s = scenario();
    if (s.trace_db.empty() || s.trace_name.empty())
        return;
    if (qEnvironmentVariableIsSet("KVTIER_DEBUG_SCENARIO"))
        std::fprintf(stderr, "request: %s\n", scenarioToJson(s).dump().c_str());
    controller_->submit(s, viewParams());
}

void MainWindow::recomputeFresh()
{
    const Scenario& s = scenario();
    if (s.trace_db.empty() || s.trace_name.empty())
        return;
    controller_->submit(s, viewParams(), true);
}

void MainWindow::cancelComputation()
{
    controller_->cancel();
    sweep_->cancel();
}

void MainWindow::setStreaming(bool on)
{
    if (streamAction_->isChecked() != on)
        streamAction_->setChecked(on);
    if (controller_->streaming() == on)
        return;
    controller_->setStreaming(on);
    recompute();
}

bool MainWindow::streaming() const { return controller_->streaming(); }

QString MainWindow::streamNote() const { return streamNote_->text(); }

void MainWindow::onResult(const AnalysisOutputPtr& out)
{
    last_ = out;
    if (!out->partial)
        lastFull_ = out;
    banner_->hide();
    // A streamed result says so above the views; a whole one removes the line.
    streamNote_->setText(streamSummary(*out));
    streamNote_->setVisible(out->streamed());
    if (!out->partial) {
        const FastTierFit fit = fastTierFit(out->result->scenario, out->result->capacity);
        note_->setText(QString::fromStdString(fastTierFitNote(fit, out->result->scenario.batch)));
        note_->setVisible(!note_->text().isEmpty());
    }
    const TraceMeta& meta = out->result->trace->meta();
    link_->setSteps(meta.steps);
    layers_->setSlots(meta.layerSlots());
    sequences_->setPrefills(meta.sequence_prefill.empty() ? std::vector<int64_t>{meta.prefill} : meta.sequence_prefill);
    showExperts(out->result->scenario.model.experts > 0);
    static const bool debugTiming = qEnvironmentVariableIsSet("KVTIER_DEBUG_TIMING");
    QElapsedTimer timer;
    timer.start();
    for (PlotView* v : views()) {
        // The comparison and the sweep need every policy: they wait for the full result.
        if (out->partial && (v == comparison_ || v == sweep_))
            continue;
        const qint64 t0 = timer.nsecsElapsed();
        v->setPlaceholder({});   // before: a view says in its place what it cannot show
        v->showResult(out);
        if (debugTiming)
            std::fprintf(stderr, "  show %-10s %6.1f ms\n", qPrintable(v->viewId()), static_cast<double>(timer.nsecsElapsed() - t0) / 1e6);
    }
    if (debugTiming)
        std::fprintf(stderr, "result %llu: pipeline %.1f ms (core total %.1f: select %.1f place %.1f time %.1f bound %.1f), heatmaps %.1f ms\n",
                     static_cast<unsigned long long>(out->id), out->pipeline_ms, out->result->stats.total_ms, out->result->stats.select_ms,
                     out->result->stats.place_ms, out->result->stats.time_ms, out->result->stats.bound_ms, out->heatmap_ms);
    explain_->showResult(out);
    explain_->setStep(link_->cursor());
    if (out->boundsPending)
        statusBar()->showMessage(tr("Computing the certified bound in the background…"));
    else if (out->scenario.bounds.migration_aware.enabled)
        statusBar()->clearMessage();
    if (out->partial) {
        timeStatus_->setText(tr("%1 shown in %2 ms; other policies…").arg(QString::fromStdString(out->view.policy)).arg(out->total_ms, 0, 'f', 1));
        emit partialShown(out);
        return;
    }
    updateStatus();
    emit analysisShown(out);
}

void MainWindow::onFailure(const QString& message, bool infeasible)
{
    // A first answer for the shown policy may have reached some views: every view goes
    // back to the last complete result, so they all show the same one.
    if (lastFull_ && last_ != lastFull_) {
        last_ = lastFull_;
        for (PlotView* v : views()) {
            v->setPlaceholder({});
            v->showResult(lastFull_);
        }
        explain_->showResult(lastFull_);
        streamNote_->setText(streamSummary(*lastFull_));
        streamNote_->setVisible(lastFull_->streamed());
    }
    if (!last_)
        for (PlotView* v : resultViews())
            v->setPlaceholder(infeasible ? tr("Nothing computed: the scenario cannot run as set (the banner above says why and what would fix it).")
                                         : tr("Nothing computed: the analysis failed (the banner above says why)."));
    banner_->showFailure(message, infeasible, lastFull_ ? &lastFull_->scenario : nullptr, scenario());
    emit analysisFailed(message);
}

void MainWindow::updateStatus()
{
    if (!last_ || !last_->result)
        return;
    const TraceMeta& m = last_->result->trace->meta();
    traceStatus_->setText(tr("%1: %2, T = %3, L = %4 (%5), %6 records")
                              .arg(qs(m.name))
                              .arg(formatPrefill(m))
                              .arg(m.steps)
                              .arg(m.layers)
                              .arg(QString::fromLatin1(toString(m.layer_mode)))
                              .arg(m.recordCount()));
    const StageStats& st = last_->result->stats;
    timeStatus_->setText(last_->streamed() ? tr("streamed in %1 ms (%2 windows)").arg(st.total_ms, 0, 'f', 1).arg(last_->stream->report.windows)
                                           : tr("computed in %1 ms").arg(st.total_ms, 0, 'f', 1));
    timeStatus_->setToolTip(tr("Pipeline: load %1 ms, selection %2 ms, placement %3 ms, timing %4 ms, bounds %5 ms\n"
                               "Heatmaps: %6 ms; whole request %7 ms")
                                .arg(st.load_ms, 0, 'f', 1)
                                .arg(st.select_ms, 0, 'f', 1)
                                .arg(st.place_ms, 0, 'f', 1)
                                .arg(st.time_ms, 0, 'f', 1)
                                .arg(st.bound_ms, 0, 'f', 1)
                                .arg(last_->heatmap_ms, 0, 'f', 1)
                                .arg(last_->total_ms, 0, 'f', 1));
}

void MainWindow::requestTokenDetail(quint32 token)
{
    if (!last_ || !last_->result)
        return;
    if (!holdsStepLists(*last_->result)) {
        relevance_->showTokenUnavailable(tr("Token timelines: not available while streamed"));
        statusBar()->showMessage(notWhileStreamed(tr("A token's relevance over time")), 8000);
        return;
    }
    auto out = last_;
    const std::string policy = policy_->currentData().toString().toStdString();
    // The token of the sequence the heatmaps show (MODEL.md §8): its own context and units.
    const int32_t sequence = out->view.relevance.sequence;
    tokenJobs_->run(
        [out, token, policy, sequence](const JobContext&) {
            TokenDetail d;
            d.token = token;
            d.sequence = sequence;
            if (const PolicyOutcome* o = out->outcome(policy); o && o->placement) {
                const TokenTimeline tl =
                    tokenTimeline(*out->result->trace, *out->result->selection, *o->placement, token, -1, sequence);
                d.policy = o->info.label;
                d.relevance = tl.relevance;
                d.selected = tl.selected;
                d.tier = tl.tier;
            } else {
                d.relevance = tokenRelevance(*out->result->trace, token, -1, sequence);
                d.selected = tokenSelected(*out->result->selection, token, -1, sequence);
            }
            return d;
        },
        [this](const TokenDetail& d) { relevance_->setTokenDetail(d); },
        [this](const QString& message) { ErrorSink::instance().report(this, tr("Cannot show the token"), message); },
        tr("token %1").arg(token));
}

void MainWindow::togglePlay() { playback_->toggle(); }
void MainWindow::stepForward() { playback_->stepForward(); }
void MainWindow::stepBack() { playback_->stepBack(); }

QStringList MainWindow::exportAll(const QString& dir, QSize size, QString* error)
{
    return exports_->exportAll(dir, size, error);
}

bool MainWindow::tabbedViews() const { return viewStack_->currentWidget() == tabs_; }

void MainWindow::setTabbedViews(bool tabs)
{
    // The same view widgets move between the grid's tab widgets and the single row of tabs.
    struct Place {
        PlotView* view;
        QTabWidget* grid;
        QString title;
    };
    // The expert view moves only while shown; hidden, it waits in the grid (showExperts).
    std::vector<Place> places = {{comparison_, topLeft_, tr("Comparison")}, {placement_, topRight_, tr("Placement")},
                                 {bandwidth_, bottomLeft_, tr("Bandwidth")}, {relevance_, bottomRight_, tr("Relevance")},
                                 {sweep_, topLeft_, tr("Sweep")}};
    if (expertsShown_)
        places.insert(places.begin() + 2, Place{experts_, topRight_, tr("Experts")});
    if (tabs == tabbedViews()) {
        if (tabbedAction_)
            tabbedAction_->setChecked(tabs);
        return;
    }
    QWidget* current = tabs ? topLeft_->currentWidget() : tabs_->currentWidget();
    for (const Place& p : places) {
        QTabWidget* to = tabs ? tabs_ : p.grid;
        to->addTab(p.view, p.title);   // the tab widget shows its current page only
    }
    if (!expertsShown_ && topRight_->currentWidget() == experts_)
        topRight_->setCurrentWidget(placement_);   // a hidden tab's page would still show
    if (current && tabs)
        tabs_->setCurrentWidget(current);
    else if (current && topLeft_->indexOf(current) >= 0)
        topLeft_->setCurrentWidget(current);
    viewStack_->setCurrentWidget(tabs ? static_cast<QWidget*>(tabs_) : rows_);
    if (tabbedAction_)
        tabbedAction_->setChecked(tabs);
    // The heatmaps are pooled to their plots' size: ask again at the new size.
    scheduleRequest(150);
}

void MainWindow::showExperts(bool shown)
{
    // Tabbed, the row of tabs holds the expert view only while it is shown (after Placement);
    // otherwise it stays in the grid's group, its tab hidden.
    if (shown && tabbedViews() && tabs_->indexOf(experts_) < 0)
        tabs_->insertTab(tabs_->indexOf(placement_) + 1, experts_, tr("Experts"));
    else if (!shown && tabs_->indexOf(experts_) >= 0)
        topRight_->addTab(experts_, tr("Experts"));
    for (QTabWidget* group : {tabs_, topRight_})
        if (const int i = group->indexOf(experts_); i >= 0)
            group->setTabVisible(i, shown);
    if (!shown && topRight_->currentWidget() == experts_)
        topRight_->setCurrentWidget(placement_);   // a hidden tab's page would still show
    expertsShown_ = shown;
    if (shown && expertsToFront_) {
        expertsToFront_ = false;
        bringViewToFront(experts_->viewId());
    }
}

void MainWindow::fitLayoutToScreen()
{
    if (QSettings().contains(QStringLiteral("window/tabbedViews")))
        return;   // the user's choice
    if (const QScreen* screen = QGuiApplication::primaryScreen())
        setTabbedViews(preferTabbedViews(screen->availableGeometry().size()));
}

QString MainWindow::figureCaption() const
{
    // Trace, model and hardware, as the presets name them; every figure carries it.
    const Scenario& s = scenario();
    QString model = qs(s.model.name), hardware = qs(s.hardware.name);
    for (const ModelPreset& m : presets_.models())
        if (m.id == s.model_preset && m.model == s.model)
            model = qs(m.name);
    for (const HardwarePreset& h : presets_.hardware())
        if (h.id == s.hardware_preset && h.hardware == s.hardware)
            hardware = qs(h.name);
    QStringList tiers;
    for (const Tier& t : s.hardware.tiers)
        tiers << qs(t.name);
    return tr("trace %1 · %2 · %3 (%4) · batch %5")
        .arg(qs(s.trace_name), model.isEmpty() ? tr("custom model") : model, hardware.isEmpty() ? tr("custom hardware") : hardware,
             tiers.join(QStringLiteral(" + ")))
        .arg(s.batch);
}

QString MainWindow::fitNote() const { return note_->text(); }

void MainWindow::openDocReference(const QString& reference)
{
    openDocument(this, reference, [this](const QString& m) { statusBar()->showMessage(m, 6000); });
}

void MainWindow::restoreSettings()
{
    QSettings s;
    // A saved geometry only when it fits the screen it would open on (saved on a larger
    // monitor or at another scaling it would start partly off screen); else most of the
    // available area, centred. Logical pixels: at 150 % the area is smaller.
    const QScreen* screen = QGuiApplication::primaryScreen();
    const QRect available = screen ? screen->availableGeometry() : QRect(0, 0, 1560, 960);
    const QByteArray saved = s.value(QStringLiteral("window/geometry")).toByteArray();
    if (saved.isEmpty() || !restoreGeometry(saved) || !geometryFits(geometry(), available))
        setGeometry(firstStartGeometry(available));
    setTabbedViews(s.value(QStringLiteral("window/tabbedViews"), false).toBool());
    if (s.value(QStringLiteral("analysis/stream"), false).toBool()) {
        streamAction_->setChecked(true);
        controller_->setStreaming(true);
    }
    restoreState(s.value(QStringLiteral("window/state")).toByteArray());
    splittersRestored_ = rows_->restoreState(s.value(QStringLiteral("window/rows")).toByteArray());
    splittersRestored_ = top_->restoreState(s.value(QStringLiteral("window/top")).toByteArray()) && splittersRestored_;
    splittersRestored_ = bottom_->restoreState(s.value(QStringLiteral("window/bottom")).toByteArray()) && splittersRestored_;
    exports_->setLastDir(s.value(QStringLiteral("exportDir")).toString());
    recent_->rebuild();
    recentScenarios_->rebuild();
    const QByteArray json = s.value(QStringLiteral("scenario")).toByteArray();
    if (!json.isEmpty()) {
        try {
            Scenario sc = scenarioFromJson(parseJsonText(json.toStdString(), "settings"), "settings", presets_);
            panel_->setScenario(sc);
            haveScenario_ = true;
            updatePolicyCombo();
        } catch (const std::exception&) {
            // A scenario saved by another version: start from the default instead.
        }
    }
}

void MainWindow::saveSettings()
{
    QSettings s;
    s.setValue(QStringLiteral("window/geometry"), saveGeometry());
    s.setValue(QStringLiteral("window/state"), saveState());
    s.setValue(QStringLiteral("window/rows"), rows_->saveState());
    s.setValue(QStringLiteral("window/top"), top_->saveState());
    s.setValue(QStringLiteral("window/bottom"), bottom_->saveState());
    s.setValue(QStringLiteral("exportDir"), exports_->lastDir());
    s.setValue(QStringLiteral("policy"), policy_->currentData().toString());
    try {
        s.setValue(QStringLiteral("scenario"), QByteArray::fromStdString(scenarioToJson(scenario()).dump()));
    } catch (const std::exception&) {
    }
    s.sync();
}

void MainWindow::resizeEvent(QResizeEvent* e)
{
    QMainWindow::resizeEvent(e);
    if (saveTimer_)
        saveTimer_->start();
}

void MainWindow::moveEvent(QMoveEvent* e)
{
    QMainWindow::moveEvent(e);
    if (saveTimer_)
        saveTimer_->start();
}

void MainWindow::closeEvent(QCloseEvent* e)
{
    saveTimer_->stop();
    saveSettings();
    controller_->cancel();
    sweep_->cancel();
    QMainWindow::closeEvent(e);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* e)
{
    if (e->mimeData()->hasUrls())
        e->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* e)
{
    QStringList files;
    for (const QUrl& u : e->mimeData()->urls())
        if (u.isLocalFile())
            files << u.toLocalFile();
    if (files.isEmpty())
        return;
    e->acceptProposedAction();
    if (files.size() == 1 && files.front().endsWith(QLatin1String(".json"))) {
        loadScenarioFile(files.front());
        return;
    }
    library_->drop(files, scenario().model.layers);
}

void MainWindow::showEvent(QShowEvent* e)
{
    QMainWindow::showEvent(e);
    if (!firstShow_ || splittersRestored_)
        return;
    firstShow_ = false;
    // Default proportions, once the real size is known: comparison widest, rows about even.
    QTimer::singleShot(0, this, [this] {
        const int w = top_->width(), h = rows_->height();
        top_->setSizes({w * 57 / 100, w - w * 57 / 100});
        bottom_->setSizes({w / 2, w - w / 2});
        rows_->setSizes({h * 53 / 100, h - h * 53 / 100});
    });
}

void MainWindow::changeEvent(QEvent* e)
{
    if (e->type() == QEvent::PaletteChange || e->type() == QEvent::ApplicationPaletteChange)
        applyThemeFromPalette();
    QMainWindow::changeEvent(e);
}

void MainWindow::applyThemeFromPalette()
{
    const Theme t = Theme::fromPalette();
    if (t.dark == Theme::current().dark)
        return;
    Theme::setCurrent(t);
    for (PlotView* v : views()) {
        v->applyTheme();
        v->plot()->replot(QCustomPlot::rpQueuedReplot);
    }
}

} // namespace kvtier::ui
