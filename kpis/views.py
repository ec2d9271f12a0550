from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from kpis.models import FiscalYear


@login_required
def home(request):
    years = FiscalYear.objects.all()
    return render(request, "kpis/home.html", {"years": years})
