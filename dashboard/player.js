// The run explorer's frame player (dashboard/player.py): a Streamlit components-v2 component that changes the
// frame in the browser. Python sends a window of frames, each already drawn (a caption line and its panels as
// data URLs); the slider, the step buttons and play swap pictures from that window at once and report the frame
// back afterwards (state value "frame": {frame, seq}), so the server's part of a frame change — the timeline's
// marker, the downloads, a new window near its edge — happens after the user already sees the frame.
//
// Python calls this function again whenever it sends new data; the DOM (and the state kept on it) persists.
// `seq` counts the player's own frame changes: data answering an older change than the newest is late and does
// not move the frame back; data at the newest seq carries the server's frame (a click on the timeline moves it).

const REPORT_DELAY_MS = 60; // a scrub reports the frame it rests on, not every frame it passed

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  let root = parentElement.querySelector(".wb-player");
  if (!root) {
    root = build(parentElement);
    root.__state = { frame: data.frame, seq: data.seq, playing: false, report: null, timer: null };
    wire(root, setStateValue);
  }
  const state = root.__state;
  root.__data = data;
  const before = state.frame;
  if (data.seq >= state.seq) { // the server's frame (a move of its own, or the answer to the newest report)
    state.seq = data.seq;
    state.frame = data.frame;
  }
  state.frame = Math.min(Math.max(state.frame, 0), data.frames - 1); // another run may be shorter
  const slider = root.querySelector(".wb-slider");
  slider.max = Math.max(data.frames - 1, 0);
  slider.disabled = data.frames < 2;
  root.querySelector(".wb-play").disabled = data.frames < 2;
  if (state.playing && state.speed !== data.speed) schedule(root); // the speed was changed
  show(root);
  if (state.frame !== before) moveMarkers(data.marker, state.frame);
  return () => { // unmounted (the page was left): no timer keeps running, no report is sent late
    clearInterval(state.timer);
    clearTimeout(state.report);
    state.playing = false;
  };
}

function build(parent) {
  const root = document.createElement("div");
  root.className = "wb-player";
  root.innerHTML = `
    <div class="wb-controls">
      <button class="wb-back" type="button" title="previous frame">◀ step</button>
      <button class="wb-play" type="button" title="play / pause at the chosen speed">▶ play</button>
      <button class="wb-next" type="button" title="next frame">step ▶</button>
      <input class="wb-slider" type="range" min="0" step="1" aria-label="frame">
      <span class="wb-number"></span>
    </div>
    <div class="wb-caption"></div>
    <div class="wb-grid"></div>`;
  parent.appendChild(root);
  return root;
}

function wire(root, setStateValue) {
  const state = root.__state;
  root.__go = (frame) => {
    const frames = root.__data.frames;
    frame = ((frame % frames) + frames) % frames;
    if (frame === state.frame) return;
    state.frame = frame;
    state.seq += 1;
    show(root);
    moveMarkers(root.__data.marker, frame);
    clearTimeout(state.report);
    state.report = setTimeout(() => setStateValue("frame", { frame: state.frame, seq: state.seq }),
      root.__data.views[String(frame)] ? REPORT_DELAY_MS : 0);
  };
  root.querySelector(".wb-slider").addEventListener("input", (event) => root.__go(Number(event.target.value)));
  root.querySelector(".wb-back").addEventListener("click", () => root.__go(state.frame - 1));
  root.querySelector(".wb-next").addEventListener("click", () => root.__go(state.frame + 1));
  root.querySelector(".wb-play").addEventListener("click", () => {
    state.playing = !state.playing;
    schedule(root);
    show(root);
  });
}

// The page's plotly timelines draw the frame as vertical lines, shapes named `marker`
// (workbench.viz.timeline.set_frame_marker). Move those lines now, on screen (their x from the axis), and in the
// figure's layout, so that a redraw by plotly (a resize) keeps them there; the server's next full run draws them
// at the same frame. Without plotly's axis functions, Plotly.relayout does it (it redraws the whole four-row
// figure: ~70 ms).
function moveMarkers(marker, frame) {
  document.querySelectorAll(".js-plotly-plot").forEach((plot) => {
    const full = plot._fullLayout;
    if (!marker || !plot.layout) return;
    const relayout = {};
    (plot.layout.shapes || []).forEach((shape, i) => {
      if (shape.name !== marker || typeof shape.xref !== "string") return;
      const axis = full && full[shape.xref.replace("x", "xaxis")]; // "x2" -> "xaxis2"
      const line = plot.querySelector(`.shapelayer path[data-index="${i}"]`);
      if (axis && typeof axis.l2p === "function" && line) {
        const x = axis._offset + axis.l2p(frame);
        line.setAttribute("d", line.getAttribute("d").replace(/^M[^,]+,([^L]+)L[^,]+,/, `M${x},$1L${x},`));
        shape.x0 = shape.x1 = frame;
      } else {
        relayout[`shapes[${i}].x0`] = frame;
        relayout[`shapes[${i}].x1`] = frame;
      }
    });
    if (Object.keys(relayout).length && window.Plotly && typeof window.Plotly.relayout === "function") {
      window.Plotly.relayout(plot, relayout).catch(() => null);
    }
  });
}

function schedule(root) {
  const state = root.__state;
  clearInterval(state.timer);
  state.timer = null;
  state.speed = root.__data.speed;
  if (!state.playing) return;
  state.timer = setInterval(() => {
    if (!root.isConnected) { // the page was left: stop quietly
      clearInterval(state.timer);
      return;
    }
    const next = (state.frame + 1) % root.__data.frames;
    // outside the window: go there once (it says "loading…" and asks for that window at once), then wait for it
    if (root.__data.views[String(next)] || root.dataset.shown === String(state.frame)) root.__go(next);
  }, 1000 / Math.max(root.__data.speed, 0.1));
}

function show(root) {
  const state = root.__state;
  const data = root.__data;
  const view = data.views[String(state.frame)];
  root.querySelector(".wb-slider").value = state.frame;
  root.querySelector(".wb-number").textContent = `${state.frame} / ${data.frames - 1}`;
  root.querySelector(".wb-play").textContent = state.playing ? "⏸ pause" : "▶ play";
  const caption = root.querySelector(".wb-caption");
  if (!view) { // outside the window sent so far: keep the old pictures, dimmed, until it arrives
    caption.textContent = `frame ${state.frame} of ${data.frames} · loading…`;
    root.classList.add("wb-waiting");
    return Promise.resolve();
  }
  root.classList.remove("wb-waiting");
  caption.innerHTML = view.caption; // built and escaped by dashboard/player.py
  const grid = root.querySelector(".wb-grid");
  while (grid.children.length > view.panels.length) grid.lastChild.remove();
  while (grid.children.length < view.panels.length) {
    const cell = document.createElement("figure");
    cell.innerHTML = '<img class="wb-panel" alt=""><div class="wb-note"></div><figcaption></figcaption>';
    grid.appendChild(cell);
  }
  const pictures = [];
  view.panels.forEach((panel, i) => {
    const cell = grid.children[i];
    const img = cell.querySelector("img");
    const note = cell.querySelector(".wb-note");
    cell.querySelector("figcaption").textContent = panel.src ? panel.caption : "";
    if (panel.src) {
      if (img.getAttribute("src") !== panel.src) img.setAttribute("src", panel.src);
      img.alt = panel.caption;
      img.hidden = false;
      note.hidden = true;
      pictures.push(img);
    } else {
      img.hidden = true;
      img.removeAttribute("src");
      img.alt = "";
      note.hidden = false;
      note.textContent = panel.caption;
    }
  });
  // data-shown: the frame whose caption and decoded pictures are all on screen (what the browser test waits for)
  const frame = state.frame;
  return Promise.all(pictures.map((img) => img.decode().catch(() => null))).then(() => {
    if (state.frame === frame) root.dataset.shown = String(frame);
  });
}
