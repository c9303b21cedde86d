"""Lessons: three ready 45-minute lessons, each a sequence of locked links into the app with the
question to ask before each step and what students should see."""
import streamlit as st

from normviz.classroom.lessons import lessons

st.title("Lessons")
st.caption("Three ready lessons of 45 minutes. Each step is a link that opens a page with the controls a "
           "student should not change fixed by the link. Ask the question first, then open the link.")

for lesson in lessons():
    st.header(f"{lesson.title} ({lesson.minutes} min)", anchor=lesson.key)
    st.markdown(f"*Goal:* {lesson.goal}")
    for i, step in enumerate(lesson.steps, 1):
        with st.container(border=True):
            st.markdown(f"**Step {i} · {step.minutes} min · Ask:** {step.ask}")
            st.markdown(f"[Open {step.link}]({step.link})")
            st.markdown(f"*Students should see:* {step.see}")
