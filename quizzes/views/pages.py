from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from quizzes.selectors import stage_list_with_topics


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "quizzes/home.html", {"stages": stage_list_with_topics()})
