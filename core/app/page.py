"""The Streamlit page of ``attrix app``: widgets only; what they do is in ``attrix.app.logic``."""

from __future__ import annotations

from typing import Any

import streamlit as st

from attrix.app import logic as app_logic
from attrix.contracts.inputs import InputField

load = st.cache_resource(max_entries=4, show_spinner="Loading the model…")(app_logic.load)
describe = st.cache_data(max_entries=16, show_spinner=False)(app_logic.describe)


def option_widget(owner: str, field: app_logic.OptionField) -> Any:
    """A widget for one option of ``owner`` (a backend or task); a numeric one that takes ``"auto"`` gets an *auto*
    switch beside it."""
    key = f"option-{owner}-{field.name}"
    if isinstance(field.default, bool):
        return st.checkbox(field.name, value=field.default, key=key)
    if field.auto and st.toggle(f"{field.name}: auto", value=field.default == app_logic.AUTO, key=f"{key}-auto"):
        return app_logic.AUTO
    if field.number is not None:
        return st.number_input(field.name, value=field.number, min_value=type(field.number)(0), key=key)
    return st.text_input(field.name, value=field.default, key=key)


def input_widget(field: InputField) -> Any:
    """The widget the task declares for one input, returning its value (the uploaded bytes for an image)."""
    key = f"input-{field.name}"
    if field.widget == "image":
        upload = st.file_uploader(field.label, type=["png", "jpg", "jpeg", "gif", "bmp", "webp"], key=key, help=field.description)
        return None if upload is None else upload.getvalue()
    widget = st.text_area if field.widget == "area" else st.text_input
    return widget(field.label, value=field.example, key=key, help=field.description)


def show(result: app_logic.Result) -> None:
    """The prediction, the highlighted explanation, the bar chart, the delta and the time."""
    explanation = result.explanation
    st.subheader(f"Prediction: {explanation.predicted_label}")
    if explanation.probabilities:
        probabilities = explanation.probabilities
        st.dataframe({"label": list(probabilities), "probability": list(probabilities.values())}, hide_index=True)
    delta, seconds = st.columns(2)
    delta.metric("Convergence delta (largest |δ|)", f"{result.delta:.2e}")
    seconds.metric("Time taken", f"{result.seconds:.2f} s")
    if result.convergence_warning:
        st.warning(result.convergence_warning, icon="⚠️")
    st.iframe(result.html, height="content", alt="attrix explanation")
    st.image(result.figure)


def measured(request: app_logic.Request, chosen: tuple[str, ...], result: app_logic.Result) -> app_logic.Measurement | None:
    """The chosen metrics of ``result``, measured once per explanation and choice (the model from the cache)."""
    if st.session_state.get("measured_for") != (request, chosen):
        with st.spinner("Measuring the metrics…"):
            st.session_state.measurement = app_logic.measure(request, chosen, result, load)
        st.session_state.measured_for = (request, chosen)
    return st.session_state.measurement


def show_metrics(measurement: app_logic.Measurement) -> None:
    """Per target, each metric beside its random reference, which way is better, and the curves; or why not."""
    st.subheader("Faithfulness metrics")
    if measurement.error:
        st.warning(f"The metrics could not be measured: {measurement.error}", icon="⚠️")
        return
    st.dataframe(measurement.table(), hide_index=True)
    st.caption(measurement.directions)
    for name, curve in measurement.curves().items():
        st.markdown(f"**{name}**: each target's score along the removal schedule")
        st.line_chart(curve, x=app_logic.CURVE_AXIS, x_label=app_logic.CURVE_AXIS, y_label="score")


def show_downloads(result: app_logic.Result, measurement: app_logic.Measurement | None) -> None:
    """The downloads: HTML, JSON (with the metrics when measured) and PNG."""
    for column, download in zip(st.columns(3), result.downloads(measurement)):
        column.download_button(
            download.label, download.data, file_name=download.file_name, mime=download.mime, key=f"download-{download.label}"
        )


st.set_page_config(page_title="attrix", layout="wide")
st.title("attrix: which words made the model decide?")
with st.sidebar:
    model = st.text_input("Model: a local directory or a Hub id", value=app_logic.initial_model(), key="model")
    try:
        info = describe(model)
    except Exception as error:  # noqa: BLE001 - the page shows every failure as a message and stays up
        st.error(app_logic.error_message(error))
        st.stop()
    task = st.selectbox(
        "Task",
        info.tasks,
        index=info.tasks.index(info.proposed),
        key=f"task-{info.name}",
        format_func=lambda name: name if name in info.fitting else f"{name} (head does not fit)",
    )
    names = app_logic.backends()
    backend = st.selectbox("Backend", names, index=names.index(app_logic.default_backend(task)), key=f"backend-{task}")
    fields = app_logic.option_fields(backend)
    values: dict[str, Any] = {}
    for field in fields:
        if field.name not in app_logic.unused_options(backend, fields, values):
            values[field.name] = option_widget(backend, field)
    task_fields = app_logic.task_option_fields(task)
    with st.expander("Task options"):
        task_values = {field.name: option_widget(f"task-{task}", field) for field in task_fields}
    options = app_logic.changed_options(fields, values) + app_logic.changed_options(task_fields, task_values)
    chosen = tuple(
        st.multiselect(
            "Faithfulness metrics",
            app_logic.metrics(),
            key="metrics",
            help=f"Measured after explaining, beside a random ranking's (see {app_logic.METRICS_DOCS}); none by default.",
        )
    )

values = {field.name: input_widget(field) for field in app_logic.input_fields(task)}
target = st.selectbox("Target", app_logic.target_choices(info, task, values), key="target")
request = app_logic.Request(info.name, task, backend, options, tuple(values.items()), target)
if st.button("Explain", type="primary", key="explain"):
    st.session_state.update(active=True, request=None)
if st.session_state.get("active"):
    if st.session_state.request != request:
        with st.spinner("Explaining…"):
            try:
                st.session_state.outcome = app_logic.explain(request, load)
            except Exception as error:  # noqa: BLE001 - the page shows every failure as a message and stays up
                st.session_state.outcome = app_logic.error_message(error)
        st.session_state.update(request=request, measured_for=None)
    outcome = st.session_state.outcome
    if isinstance(outcome, str):
        st.error(outcome)
    else:
        show(outcome)
        measurement = measured(request, chosen, outcome)
        if measurement is not None:
            show_metrics(measurement)
        show_downloads(outcome, measurement)
